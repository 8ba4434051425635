"""Convolutional encoders and decoders for square images, sized by an architecture spec.

``paper`` follows the QLAE paper's 64 x 64 networks (12-conv encoder with instance norm, style
decoder with FiLM-modulated transposed convolutions). ``burgess`` (formerly ``small``) is a
Burgess-style stack of 4x4 stride-2 convolutions with no normalisation and a mirrored plain
decoder, about 100x cheaper per image at 32 px; it is *not* the authors' ``image_small``
(widths 64-512 with instance norm), which this package does not provide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Architecture:
    """Sizes of the encoder and its mirrored decoder.

    Attributes
    ----------
    widths : tuple of int
        Channels per resolution stage, from the input down. One stage halves the resolution;
        an image of size s uses the first log2(s / 4) stages (so it ends at 4 x 4).
    blocks_per_stage : int
        1: one 4x4 stride-2 convolution per stage; 3: two 3x3 stride-1 convolutions, then one
        4x4 stride-2 convolution (the paper's layout).
    dense : tuple of int
        Widths of the fully connected layers after the convolutions (mirrored in decoders).
    instance_norm : bool
        Instance norm (affine GroupNorm with one group per channel) after every convolution.
    style_decoder : bool
        Use the FiLM style decoder instead of the plain transposed-convolution decoder.
    """

    widths: tuple[int, ...]
    blocks_per_stage: int
    dense: tuple[int, ...]
    instance_norm: bool
    style_decoder: bool

    def stages(self, image_size: int) -> tuple[int, ...]:
        """Return the stage widths used for ``image_size`` (a power of two >= 8)."""
        n_stages = int(round(math.log2(image_size / 4))) if image_size >= 8 else 0
        if image_size < 8 or 4 * 2**n_stages != image_size or n_stages > len(self.widths):
            raise ValueError(
                f"image size must be a power of two from 8 to {4 * 2 ** len(self.widths)}, "
                f"got {image_size}"
            )
        return self.widths[:n_stages]


ARCHITECTURES = {
    "paper": Architecture(
        widths=(32, 64, 128, 256),
        blocks_per_stage=3,
        dense=(256, 256),
        instance_norm=True,
        style_decoder=True,
    ),
    # Burgess et al. (2018)-style: one 4x4 stride-2 conv per stage, no norm, plain decoder
    # (narrower dense layers and wider late stages than Burgess's 32-channel original).
    "burgess": Architecture(
        widths=(32, 32, 64, 64),
        blocks_per_stage=1,
        dense=(128,),
        instance_norm=False,
        style_decoder=False,
    ),
}

_EPS = 1e-6
_SLOPE = 0.2


def _stage_layers(blocks_per_stage: int) -> list[tuple[int, int]]:
    """(kernel, stride) of each convolution of a stage; the last one changes resolution."""
    return [(3, 1)] * (blocks_per_stage - 1) + [(4, 2)]


def _dense_stack(widths: tuple[int, ...], in_features: int) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_features, width), nn.ReLU()]
        in_features = width
    return nn.Sequential(*layers), in_features


class Encoder(nn.Module):
    """Convolutional encoder: conv stages to 4 x 4, dense layers, then a linear head.

    Parameters
    ----------
    arch : Architecture
    in_channels, image_size : int
        Input image shape (channels, image_size, image_size).
    num_outputs : int
        Width of the linear head (the latent's ``num_inputs``).

    Returns (forward)
    -----------------
    dict with ``features`` (the last dense activations) and ``pre_z`` (head output).
    """

    def __init__(self, arch: Architecture, in_channels: int, image_size: int, num_outputs: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for width in arch.stages(image_size):
            for kernel, stride in _stage_layers(arch.blocks_per_stage):
                # Convolutions followed by a norm carry no bias (the norm's shift replaces it).
                layers.append(
                    nn.Conv2d(channels, width, kernel, stride, 1, bias=not arch.instance_norm)
                )
                if arch.instance_norm:
                    layers.append(nn.GroupNorm(width, width, eps=_EPS))
                layers.append(nn.LeakyReLU(_SLOPE))
                channels = width
        self.convs = nn.Sequential(*layers, nn.Flatten())
        self.dense, self.num_features = _dense_stack(arch.dense, channels * 16)
        self.head = nn.Linear(self.num_features, num_outputs)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.dense(self.convs(x))
        return {"features": features, "pre_z": self.head(features)}


class ConvDecoder(nn.Module):
    """Mirror of :class:`Encoder`: dense layers, reshape to 4 x 4, transposed convolutions,
    and a final bias-free 3x3 convolution to logits."""

    def __init__(self, arch: Architecture, num_latents: int, out_channels: int, image_size: int):
        super().__init__()
        widths = arch.stages(image_size)[::-1]
        self.dense, features = _dense_stack(arch.dense[::-1], num_latents)
        self.transition = nn.Sequential(nn.Linear(features, widths[0] * 16), nn.ReLU())
        self.start_shape = (widths[0], 4, 4)
        layers: list[nn.Module] = []
        channels = widths[0]
        for width in widths:
            for kernel, stride in _stage_layers(arch.blocks_per_stage):
                layers.append(
                    nn.ConvTranspose2d(
                        channels, width, kernel, stride, 1, bias=not arch.instance_norm
                    )
                )
                if arch.instance_norm:
                    layers.append(nn.GroupNorm(width, width, eps=_EPS))
                layers.append(nn.LeakyReLU(_SLOPE))
                channels = width
        layers.append(nn.Conv2d(channels, out_channels, 3, 1, 1, bias=False))
        self.convs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        hidden = self.transition(self.dense(z)).view(-1, *self.start_shape)
        return self.convs(hidden)


class StyleBlock(nn.Module):
    """Transposed conv -> LeakyReLU -> instance norm (no affine) -> FiLM from the style vector.

    The FiLM scale and shift come from a linear map followed by ReLU, as in the paper's code,
    so the modulation is non-negative.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, style: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, 1, bias=False)
        self.norm = nn.GroupNorm(out_channels, out_channels, eps=_EPS, affine=False)
        self.film = nn.Sequential(nn.Linear(style, 2 * out_channels), nn.ReLU())

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        x = self.norm(nn.functional.leaky_relu(self.conv(x), _SLOPE))
        scale, shift = self.film(style)[:, :, None, None].chunk(2, dim=1)
        return x * scale + shift


class StyleDecoder(nn.Module):
    """The paper's decoder: z -> style vector; a learned constant 4 x 4 map is upsampled by
    style blocks mirroring the encoder; a final bias-free 3x3 convolution gives logits."""

    def __init__(self, arch: Architecture, num_latents: int, out_channels: int, image_size: int):
        super().__init__()
        widths = arch.stages(image_size)[::-1]
        self.mapping, style = _dense_stack(arch.dense, num_latents)
        self.constant = nn.Parameter(torch.full((1, widths[0], 4, 4), 0.1))
        blocks = []
        channels = widths[0]
        for width in widths:
            for kernel, stride in _stage_layers(arch.blocks_per_stage):
                blocks.append(StyleBlock(channels, width, kernel, stride, style))
                channels = width
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(channels, out_channels, 3, 1, 1, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        style = self.mapping(z)
        x = self.constant.expand(z.shape[0], -1, -1, -1)
        for block in self.blocks:
            x = block(x, style)
        return self.out(x)


def make_decoder(
    arch: Architecture, num_latents: int, out_channels: int, image_size: int
) -> nn.Module:
    """Build the decoder an architecture asks for."""
    decoder_class = StyleDecoder if arch.style_decoder else ConvDecoder
    return decoder_class(arch, num_latents, out_channels, image_size)


def split_decayed_parameters(
    module: nn.Module, exclude: tuple[nn.Module, ...] = ()
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split trainable parameters into (decayed, not decayed), as the paper's optimizer does.

    Biases and every parameter of the ``exclude`` modules (the latent codebooks) are not
    decayed (and not clipped); everything else is, including norm scales, FiLM weights and
    the style decoder's constant input.
    """
    excluded = {id(p) for m in exclude for p in m.parameters()}
    decayed, plain = [], []
    for name, parameter in module.named_parameters():
        if not parameter.requires_grad:
            continue
        if id(parameter) in excluded or name.endswith("bias"):
            plain.append(parameter)
        else:
            decayed.append(parameter)
    return decayed, plain
