"""Every training loss in one place. Feature lists are encoder outputs relu1_1 … relu5_1."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .attention import channel_stats, mean_variance_norm


def content_loss(output_feats: list[torch.Tensor], content_feats: list[torch.Tensor]) -> torch.Tensor:
    """MSE of mean-variance normalised relu4_1 and relu5_1: structure, not statistics (SANet)."""
    return sum(
        F.mse_loss(mean_variance_norm(o), mean_variance_norm(c))
        for o, c in zip(output_feats[3:], content_feats[3:])
    )


def style_loss(
    output_feats: list[torch.Tensor], style_feats: list[torch.Tensor], layer_weights: tuple[float, ...] | None = None
) -> torch.Tensor:
    """MSE of channel means and standard deviations at relu1_1 … relu5_1 (AdaIN/SANet), each layer
    scaled by ``layer_weights`` (default: all 1)."""
    return sum(
        weight * term for weight, term in zip(layer_weights or (1.0,) * len(output_feats),
                                              style_loss_terms(output_feats, style_feats))
    )


def style_loss_terms(output_feats: list[torch.Tensor], style_feats: list[torch.Tensor]) -> list[torch.Tensor]:
    """The style loss of each layer, mean and std terms added: what :func:`style_loss` weighs."""
    terms = []
    for o, s in zip(output_feats, style_feats):
        o_mean, o_std = channel_stats(o)
        s_mean, s_std = channel_stats(s)
        terms.append(F.mse_loss(o_mean, s_mean) + F.mse_loss(o_std, s_std))
    return terms


def identity_pixel_loss(reconstructions: torch.Tensor, originals: torch.Tensor) -> torch.Tensor:
    """An image stylised with itself must come back unchanged (SANet's identity loss 1)."""
    return F.mse_loss(reconstructions, originals)


def identity_feature_loss(recon_feats: list[torch.Tensor], original_feats: list[torch.Tensor]) -> torch.Tensor:
    """The same at every encoder level (SANet's identity loss 2)."""
    return sum(F.mse_loss(r, o) for r, o in zip(recon_feats, original_feats))


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels: discourages high-frequency noise."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., 1:] - image[..., :-1]).abs().mean()


def attention_entropy(attention: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean entropy of attention rows (B, Nq, Nk), normalised to [0, 1] by log(Nk).

    Minimising it sharpens attention so content regions copy specific style patches rather than a
    blurred average of the whole style.
    """
    entropy = -(attention * (attention + eps).log()).sum(-1)
    return entropy.mean() / torch.log(torch.tensor(float(attention.shape[-1])))


def clip_directional_loss(
    output_embeds: torch.Tensor, content_embeds: torch.Tensor, text_direction: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """1 − cos(ΔI, ΔT) (StyleGAN-NADA / CLIPstyler).

    ΔI = CLIP(output) − CLIP(content), ΔT = CLIP(prompt) − CLIP("a photo"): 0 when the image moved
    exactly in the prompt's direction, 2 when it moved the opposite way.
    """
    delta = output_embeds - content_embeds
    return (1 - F.cosine_similarity(delta, text_direction.expand_as(delta), dim=-1, eps=eps)).mean()


def patch_clip_directional_loss(
    patch_output_embeds: torch.Tensor,
    patch_content_embeds: torch.Tensor,
    text_direction: torch.Tensor,
    threshold: float = 0.7,
) -> torch.Tensor:
    """CLIPstyler's patch loss: directional loss per random crop, ignoring crops already aligned.

    Crops whose loss is below ``threshold`` are rejected (zeroed) so well-stylised patches stop
    pulling and the rest get the gradient.
    """
    delta = patch_output_embeds - patch_content_embeds
    per_patch = 1 - F.cosine_similarity(delta, text_direction.expand_as(delta), dim=-1)
    return torch.where(per_patch < threshold, torch.zeros_like(per_patch), per_patch).mean()


# ----------------------------------------------------------------------------- token sets
# A style seen by SANet is a set of feature vectors; a mapper's n tokens stand for it when, sorted,
# they are the set's quantiles at the levels (i + 0.5) / n: the squared difference is then the
# 1-D Wasserstein-2 distance per channel (which holds mean and std), and along random directions
# the sliced Wasserstein distance (which also sees how channels go together).


def quantile_levels(n: int) -> torch.Tensor:
    """The ``n`` quantile levels ``n`` sorted tokens stand for: (i + 0.5) / n."""
    return (torch.arange(n, dtype=torch.float32) + 0.5) / n


def set_quantiles(feats: torch.Tensor, n: int, directions: torch.Tensor | None = None) -> torch.Tensor:
    """A feature set (C, N) as its ``n`` quantiles per channel (C, n), or along each of the (P, C)
    ``directions`` (P, n)."""
    values = feats.float() if directions is None else directions @ feats.float()
    return torch.quantile(values, quantile_levels(n).to(values.device), dim=-1).T.contiguous()


def token_set_terms(tokens: torch.Tensor, quantiles: torch.Tensor, slices: torch.Tensor,
                    directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """How far token sets (B, C, n) are from target sets given by their per-channel ``quantiles``
    (B, C, n) and their ``slices`` (B, P, n) along ``directions`` (P, C): the per-channel and the
    sliced squared Wasserstein distance, each averaged over the batch."""
    per_channel = F.mse_loss(tokens.sort(-1).values, quantiles)
    projected = torch.einsum("pc,bcn->bpn", directions, tokens).sort(-1).values
    return per_channel, F.mse_loss(projected, slices)
