"""A PyTorch eager latent search on a copy of a tfgad 1-D DCGAN generator (the benchmark's peer).

The peer's semantics are those of ecgan's AnoGAN search: one Adam over the batch's z, stop when
the batch-mean L1 residual is below eps, at most n_max steps, generator in eval mode (and,
to make the peer as fast as it can be, with its weights frozen: no weight gradients).
Needs the [bench] extra (torch).
"""
import numpy as np
import torch
from keras import layers


class TorchGenerator(torch.nn.Module):
    """The same network as tfgad.models.networks.build_generator for series, weights copied."""

    def __init__(self, keras_generator):
        super().__init__()
        self.steps = torch.nn.ModuleList()
        self.plan = []  # (kind, module index or argument)
        for layer in keras_generator.layers:
            weights = [np.asarray(w) for w in layer.get_weights()]
            if isinstance(layer, layers.Dense):
                linear = torch.nn.Linear(*weights[0].shape, bias=layer.use_bias)
                linear.weight.data = torch.from_numpy(weights[0].T.copy())
                if layer.use_bias:
                    linear.bias.data = torch.from_numpy(weights[1].copy())
                self._add("module", linear)
            elif isinstance(layer, layers.BatchNormalization):
                norm = torch.nn.BatchNorm1d(weights[0].shape[0], eps=layer.epsilon)
                norm.weight.data, norm.bias.data = (torch.from_numpy(w.copy()) for w in weights[:2])
                norm.running_mean.data, norm.running_var.data = (
                    torch.from_numpy(w.copy()) for w in weights[2:])
                self._add("module", norm)
            elif isinstance(layer, layers.ReLU):
                self._add("module", torch.nn.ReLU())
            elif isinstance(layer, layers.Reshape):
                self.plan.append(("reshape", layer.target_shape))
            elif isinstance(layer, layers.Conv1DTranspose):
                k, c_out, c_in = weights[0].shape
                stride = layer.strides[0]
                # TF's "same" crops (k - s) // 2 on the left and the rest on the right; PyTorch
                # crops `padding` on both sides, so one more column is cut on the right below.
                conv = torch.nn.ConvTranspose1d(c_in, c_out, k, stride=stride,
                                                padding=(k - stride) // 2, bias=layer.use_bias)
                conv.weight.data = torch.from_numpy(weights[0].transpose(2, 1, 0).copy())
                self._add("module", conv)
                self.plan.append(("trim_right", (k - stride) - 2 * ((k - stride) // 2)))
            elif isinstance(layer, layers.Conv1D):
                k, c_in, c_out = weights[0].shape
                conv = torch.nn.Conv1d(c_in, c_out, k, padding=k // 2, bias=layer.use_bias)
                conv.weight.data = torch.from_numpy(weights[0].transpose(2, 1, 0).copy())
                if layer.use_bias:
                    conv.bias.data = torch.from_numpy(weights[1].copy())
                self._add("module", conv)
            elif isinstance(layer, layers.Cropping1D):
                self.plan.append(("crop", tuple(layer.cropping)))
            elif not isinstance(layer, layers.InputLayer):
                raise ValueError(f"no PyTorch copy for layer {layer.name} ({type(layer).__name__})")
        self.eval()
        self.requires_grad_(False)

    def _add(self, kind, module):
        self.plan.append((kind, len(self.steps)))
        self.steps.append(module)

    def forward(self, z):
        """z [B, d] -> x [B, L, C] (channels last, like the Keras model)."""
        h, channels_first = z, False
        for kind, arg in self.plan:
            if kind == "module":
                h = self.steps[arg](h)
            elif kind == "reshape":
                h = h.reshape((-1,) + tuple(arg)).permute(0, 2, 1)  # to [B, C, L]
                channels_first = True
            elif kind == "trim_right" and arg:
                h = h[..., :-arg]
            elif kind == "crop":
                h = h[..., arg[0]:h.shape[-1] - arg[1]]
        return h.permute(0, 2, 1) if channels_first else h


def eager_search(generator, x, z0, n_max, eps, learning_rate=0.01, betas=(0.5, 0.99)):
    """ecgan's loop: returns (steps run, per-sample L1 residual at the end [B])."""
    x = torch.from_numpy(np.asarray(x))
    z = torch.from_numpy(np.asarray(z0)).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=learning_rate, betas=betas)
    steps, per_sample = 0, None
    for steps in range(1, n_max + 1):
        optimizer.zero_grad()
        per_sample = (x - generator(z)).abs().mean(dim=(1, 2))
        loss = per_sample.mean()
        loss.backward()
        optimizer.step()
        if loss.item() < eps:
            break
    return steps, per_sample.detach().numpy()
