"""PyTorch training steps of tfgad's 1-D DCGAN networks: the training benchmark's peer.

The networks have the same layers, widths, kernels, strides, normalization (batch norm,
momentum and epsilon as Keras') and parameter counts as tfgad.models.networks builds for series;
the losses and optimizers are those of tfgad's train_step (GAN: BCE discriminator and
non-saturating generator, fresh latents for each; WGAN-GP: n_critic critic steps with the
gradient penalty's double backward, then a generator step; BiGAN: a joint discriminator on
(x, z) and the generator with the encoder playing the swapped game, both from one forward
pass); Adam with Keras' epsilon. Eager PyTorch, written the way its users write it.
Needs the [bench] extra (torch).
"""
import json
import math
import os
import sys
import time
import types

import numpy as np
import torch
from torch import nn
from torch.nn import functional


def _bn(channels):
    return nn.BatchNorm1d(channels, momentum=0.1, eps=1e-3)  # Keras' momentum 0.9, epsilon


class Generator(nn.Module):
    def __init__(self, length, channels, latent_dim, base_filters, num_blocks, kernel_size):
        super().__init__()
        self.start = math.ceil(length / 2 ** num_blocks)
        self.filters = base_filters * 2 ** (num_blocks - 1)
        self.length = length
        self.dense = nn.Sequential(nn.Linear(latent_dim, self.start * self.filters, bias=False),
                                   _bn(self.start * self.filters), nn.ReLU())
        blocks, c_in = [], self.filters
        for block in range(num_blocks):
            c_out = max(base_filters * 2 ** (num_blocks - 2 - block) if block < num_blocks - 1
                        else base_filters // 2, 1)
            # "same" with stride 2: twice the length, as Keras' Conv1DTranspose.
            blocks += [nn.ConvTranspose1d(c_in, c_out, kernel_size, stride=2,
                                          padding=kernel_size // 2, output_padding=1,
                                          bias=False), _bn(c_out), nn.ReLU()]
            c_in = c_out
        blocks.append(nn.Conv1d(c_in, channels, kernel_size, padding=kernel_size // 2))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, z):
        h = self.dense(z).reshape(-1, self.filters, self.start)
        return self.blocks(h)[..., :self.length]


def _downsampling(channels, base_filters, num_blocks, kernel_size, bias, norm):
    layers, c_in = [], channels
    for block in range(num_blocks):
        c_out = base_filters * 2 ** block
        layers.append(nn.Conv1d(c_in, c_out, kernel_size, stride=2, padding=kernel_size // 2,
                                bias=bias))
        if norm and block:
            layers.append(_bn(c_out))
        layers.append(nn.LeakyReLU(0.2))
        c_in = c_out
    return nn.Sequential(*layers, nn.Flatten())


class Discriminator(nn.Module):
    """x (and z for a joint one) -> logits [B, 1]."""

    def __init__(self, length, channels, base_filters, num_blocks, kernel_size, latent_dim=0):
        super().__init__()
        self.convs = _downsampling(channels, base_filters, num_blocks, kernel_size, True, False)
        features = base_filters * 2 ** (num_blocks - 1) * math.ceil(length / 2 ** num_blocks)
        self.joint = None
        if latent_dim:
            units = base_filters * 2 ** (num_blocks - 1)
            self.z_layer = nn.Sequential(nn.Linear(latent_dim, units), nn.LeakyReLU(0.2))
            self.joint = nn.Sequential(nn.Linear(features + units, units), nn.LeakyReLU(0.2))
            features = units
        self.logits = nn.Linear(features, 1)

    def forward(self, x, z=None):
        h = self.convs(x)
        if self.joint is not None:
            h = self.joint(torch.cat([h, self.z_layer(z)], dim=1))
        return self.logits(h)


class Encoder(nn.Module):
    def __init__(self, length, channels, latent_dim, base_filters, num_blocks, kernel_size):
        super().__init__()
        self.convs = _downsampling(channels, base_filters, num_blocks, kernel_size, False, True)
        features = base_filters * 2 ** (num_blocks - 1) * math.ceil(length / 2 ** num_blocks)
        self.z = nn.Linear(features, latent_dim)

    def forward(self, x):
        return self.z(self.convs(x))


def _adam(params, rate=2e-4):
    return torch.optim.Adam(params, lr=rate, betas=(0.5, 0.999), eps=1e-7)


class PeerStep:
    """One full adversarial step of a family on a batch x [B, C, L]; networks and optimizers
    built as tfgad's defaults (model.* and train.* of the config given)."""

    def __init__(self, family, length, channels, m, n_critic=5, gp_weight=10.0):
        self.family, self.latent_dim = family, m.latent_dim
        self.n_critic, self.gp_weight = n_critic, gp_weight
        args = (m.base_filters, m.num_blocks, m.kernel_size)
        self.generator = Generator(length, channels, m.latent_dim, *args)
        joint = m.latent_dim if family == "bigan" else 0
        self.discriminator = Discriminator(length, channels, *args, latent_dim=joint)
        self.encoder = Encoder(length, channels, m.latent_dim, *args) if joint else None
        g_params = list(self.generator.parameters())
        if self.encoder is not None:
            g_params += list(self.encoder.parameters())
        self.g_params = g_params
        self.d_optimizer = _adam(self.discriminator.parameters())
        self.g_optimizer = _adam(g_params)
        self.step = {"gan": self._gan, "wgan_gp": self._wgan_gp, "bigan": self._bigan}[family]

    def parameter_counts(self) -> dict:
        nets = {"generator": self.generator, "discriminator": self.discriminator}
        if self.encoder is not None:
            nets["encoder"] = self.encoder
        return {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items()}

    def _z(self, batch):
        return torch.randn(batch, self.latent_dim)

    def _gan(self, x):
        batch = len(x)
        fake = self.generator(self._z(batch)).detach()
        d_loss = (functional.softplus(-self.discriminator(x)).mean()
                  + functional.softplus(self.discriminator(fake)).mean())
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        g_loss = functional.softplus(-self.discriminator(self.generator(self._z(batch)))).mean()
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()

    def _wgan_gp(self, x):
        batch = len(x)
        for _ in range(self.n_critic):
            fake = self.generator(self._z(batch)).detach()
            wasserstein = self.discriminator(fake).mean() - self.discriminator(x).mean()
            alpha = torch.rand(batch, 1, 1)
            mixed = (alpha * x + (1 - alpha) * fake).requires_grad_(True)
            grads, = torch.autograd.grad(self.discriminator(mixed).sum(), mixed,
                                         create_graph=True)
            norms = torch.sqrt(grads.square().sum(dim=(1, 2)) + 1e-12)
            d_loss = wasserstein + self.gp_weight * (norms - 1).square().mean()
            self.d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_optimizer.step()
        g_loss = -self.discriminator(self.generator(self._z(batch))).mean()
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()

    def _bigan(self, x):
        z = self._z(len(x))
        real = self.discriminator(x, self.encoder(x))
        fake = self.discriminator(self.generator(z), z)
        d_loss = functional.softplus(-real).mean() + functional.softplus(fake).mean()
        g_loss = functional.softplus(real).mean() + functional.softplus(-fake).mean()
        d_params = list(self.discriminator.parameters())
        d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
        g_grads = torch.autograd.grad(g_loss, self.g_params)
        for params, grads in ((d_params, d_grads), (self.g_params, g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        self.d_optimizer.step()
        self.g_optimizer.step()


def serve(spec: dict) -> None:
    """The peer as a process (scripts/benchmark_training.py): builds the family's step on the
    batch file of spec, prints its facts as a JSON line, then for every line n on stdin runs n
    steps and prints the seconds they took; stops at the end of stdin."""
    torch.set_num_threads(os.cpu_count() or 1)
    settings = types.SimpleNamespace(**{k: spec[k] for k in ("latent_dim", "base_filters",
                                                              "num_blocks", "kernel_size")})
    peer = PeerStep(spec["family"], spec["shape"][0], spec["shape"][1], settings)
    x = torch.from_numpy(np.ascontiguousarray(np.load(spec["batch"]).transpose(0, 2, 1)))
    print(json.dumps({"parameters": peer.parameter_counts(), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        for _ in range(int(line)):
            peer.step(x)
        print(time.perf_counter() - started, flush=True)


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
