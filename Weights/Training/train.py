"""Trains a tiny SD1.5-shaped pipeline that draws coloured shapes, with a canny ControlNet and a base IP-Adapter.

    /work/venv/bin/python Weights/Training/train.py [--minutes-vae 6 --minutes-unet 35 ...] [--quick] [--threads 1]

Stages, in order, each resumable (a checkpoint per stage in --state, written every --save-seconds; rerunning
continues where the last run stopped; a stage whose budget is spent is skipped):
  vae        AutoencoderKL, 3 levels (64x64 pixels <-> 4x16x16 latents), reconstruction + small KL.
  unet       UNet2DConditionModel + a CLIPTextModel trained from scratch on the captions (epsilon
             prediction, scaled-linear DDPM schedule, 10% empty captions for classifier-free guidance).
  controlnet ControlNetModel.from_unet trained on cv2.Canny(scene, 100, 200) edge maps (UNet frozen).
  ipadapter  a base IP-Adapter (ImageProjection, 4 tokens) and its CLIP vision encoder, trained together
             to carry a reference's palette and texture (the reference is the scene re-laid out: same
             colours and shapes, other positions), UNet frozen.
Then `export` writes the models directory (--out) in diffusers' layout, F16 safetensors.

The data set is procedural (see `Scene`): every step draws a fresh batch from a seed derived from the
stage and the step, so a resumed run sees the same data as an uninterrupted one.
"""
import argparse
import copy
import json
import math
import random
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, ControlNetModel, DDPMScheduler, UNet2DConditionModel
from PIL import Image, ImageDraw
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, CLIPVisionConfig, CLIPVisionModelWithProjection

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE.parent
RANDOM = WEIGHTS.parent / "Tests" / "Fixtures" / "Weights" / "tiny-sd15"  # the random model: its tokenizer and scheduler config
TOKENIZER = RANDOM / "tokenizer"
SCHEDULER = RANDOM / "scheduler" / "scheduler_config.json"

SIZE = 64
COLORS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 210, 40),
          "purple": (140, 60, 190), "orange": (245, 140, 30)}
BACKGROUNDS = {"white": (240, 240, 240), "gray": (128, 128, 128), "black": (20, 20, 20)}
SHAPES = ("circle", "square", "triangle", "star", "stripes")
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


# ----------------------------------------------------------------------------------------------------------
# The data set


class Scene:
    """One or two coloured shapes on a neutral background, with the caption that names them."""

    def __init__(self, rng):
        self.background = rng.choice(list(BACKGROUNDS))
        count = 1 if rng.random() < 0.5 else 2
        self.relation = rng.choice(("above", "left of")) if count == 2 else None
        colors = rng.sample(list(COLORS), count)
        self.items = []
        for k in range(count):
            shape = rng.choice(SHAPES)
            radius = rng.uniform(12, 20) if count == 1 else rng.uniform(8, 12)
            if count == 1:
                cx, cy = rng.uniform(20, 44), rng.uniform(20, 44)
            else:
                along = (18 if k == 0 else 46) + rng.uniform(-3, 3)
                across = rng.uniform(22, 42)
                cx, cy = (across, along) if self.relation == "above" else (along, across)
            self.items.append((shape, colors[k], cx, cy, radius, rng.uniform(0, 2 * math.pi)))

    def caption(self, colors=True, background=False):
        words = [f"a {c} {s}" if colors else f"a {s}" for s, c, *_ in self.items]
        words = [w.replace("a stripes", "stripes") for w in words]
        text = f" {self.relation} ".join(words)
        return text + f" on a {self.background} background" if background else text

    def image(self, shuffled_rng=None):
        """The scene drawn at 4x and reduced (anti-aliased edges); `shuffled_rng` moves the shapes
        elsewhere (the IP-Adapter's references: the palette and textures without the layout)."""
        scale = 4
        canvas = Image.new("RGB", (SIZE * scale, SIZE * scale), BACKGROUNDS[self.background])
        draw = ImageDraw.Draw(canvas)
        for shape, color, cx, cy, radius, angle in self.items:
            if shuffled_rng is not None:
                cx, cy = shuffled_rng.uniform(radius, SIZE - radius), shuffled_rng.uniform(radius, SIZE - radius)
                angle = shuffled_rng.uniform(0, 2 * math.pi)
            draw_shape(draw, shape, COLORS[color], cx * scale, cy * scale, radius * scale, angle)
        return canvas.resize((SIZE, SIZE), Image.BOX)


def draw_shape(draw, shape, color, cx, cy, r, angle):
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
    elif shape == "square":
        s = r * 0.85
        draw.rectangle((cx - s, cy - s, cx + s, cy + s), fill=color)
    elif shape == "triangle":
        draw.polygon([(cx + r * math.cos(angle + k * 2 * math.pi / 3), cy + r * math.sin(angle + k * 2 * math.pi / 3))
                      for k in range(3)], fill=color)
    elif shape == "star":
        points = []
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.45
            a = angle + k * math.pi / 5
            points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
        draw.polygon(points, fill=color)
    else:  # stripes: a square patch of horizontal bands, 2 of 4 pixels coloured
        s = r * 0.9
        band = 8  # in the 4x canvas: 2 pixels of the 64x64 image
        y = cy - s
        while y < cy + s:
            draw.rectangle((cx - s, y, cx + s, max(y, min(y + band, cy + s) - 1)), fill=color)
            y += 2 * band


def canny(image):
    """controlnet_aux's CannyDetector at this size: cv2.Canny(rgb, 100, 200), repeated into RGB."""
    edges = cv2.Canny(np.asarray(image), 100, 200)
    return np.repeat(edges[:, :, None], 3, axis=2)


def to_tensor(images):
    """PIL images to [-1, 1] NCHW."""
    array = np.stack([np.asarray(i, dtype=np.float32) / 127.5 - 1 for i in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def clip_pixels(images, size):
    """CLIPImageProcessor(size, crop_size=size) on square images: bicubic resize, rescale, normalise."""
    array = np.stack([(np.asarray(i.resize((size, size), Image.BICUBIC), dtype=np.float32) / 255 - CLIP_MEAN) / CLIP_STD
                      for i in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def batch(stage, step, size):
    rng = random.Random(f"{stage}:{step}")
    return rng, [Scene(rng) for _ in range(size)]


# ----------------------------------------------------------------------------------------------------------
# The models


def make_vae():
    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8, layers_per_block=1,
                         block_out_channels=(16, 32, 32), down_block_types=("DownEncoderBlock2D",) * 3,
                         up_block_types=("UpDecoderBlock2D",) * 3, sample_size=SIZE, scaling_factor=1.0)


def make_text_encoder():
    config = CLIPTextConfig(vocab_size=49408, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                            num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
                            projection_dim=32, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407)
    return CLIPTextModel(config)


def make_unet():
    return UNet2DConditionModel(sample_size=SIZE // 4, block_out_channels=(32, 64), layers_per_block=1,
                                down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                                cross_attention_dim=32, attention_head_dim=(4, 8), norm_num_groups=16)


def make_controlnet(unet):
    return ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32, 32))


def make_image_encoder():
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=32, hidden_act="quick_gelu")
    return CLIPVisionModelWithProjection(config)


def add_ip_adapter(unet):
    """Gives `unet` diffusers' base IP-Adapter (ImageProjection to 4 tokens, to_k_ip/to_v_ip per
    cross-attention), the to_k_ip/to_v_ip initialised from to_k/to_v as the original training does."""
    cross = unet.config.cross_attention_dim
    torch.manual_seed(7)
    proj = torch.nn.Linear(32, 4 * cross)
    sd = {"image_proj": {"proj.weight": proj.weight.data * 0.5, "proj.bias": proj.bias.data * 0.0,
                         "norm.weight": torch.ones(cross), "norm.bias": torch.zeros(cross)},
          "ip_adapter": {}}
    for k, name in enumerate(n for n in unet.attn_processors if n.endswith("attn2.processor")):
        attn = unet.get_submodule(name[: -len(".processor")])
        sd["ip_adapter"][f"{2 * k + 1}.to_k_ip.weight"] = attn.to_k.weight.data.clone()
        sd["ip_adapter"][f"{2 * k + 1}.to_v_ip.weight"] = attn.to_v.weight.data.clone()
    unet._load_ip_adapter_weights([sd])
    return unet


def ip_adapter_parameters(unet):
    params = list(unet.encoder_hid_proj.parameters())
    for processor in unet.attn_processors.values():
        if hasattr(processor, "to_k_ip"):
            params += list(processor.parameters())
    return params


def ip_adapter_state_dict(unet):
    """The original single-file layout: image_proj.* and ip_adapter.<1,3,5,...>.to_k_ip/to_v_ip."""
    projection = unet.encoder_hid_proj.image_projection_layers[0].state_dict()
    sd = {"image_proj." + k.replace("image_embeds.", "proj."): v for k, v in projection.items()}
    cross = [p for n, p in unet.attn_processors.items() if n.endswith("attn2.processor")]
    for k, processor in enumerate(cross):
        sd[f"ip_adapter.{2 * k + 1}.to_k_ip.weight"] = processor.to_k_ip[0].weight
        sd[f"ip_adapter.{2 * k + 1}.to_v_ip.weight"] = processor.to_v_ip[0].weight
    return {k: v.detach().to(torch.float16).contiguous() for k, v in sd.items()}


# ----------------------------------------------------------------------------------------------------------
# Training


class Stage:
    """A resumable training loop: `modules` (name -> module) and an AdamW on `params`; the checkpoint
    holds their states, the step and the seconds spent, and the loop stops when the budget is spent."""

    def __init__(self, name, modules, params, args, minutes, lr, ema=None):
        self.name, self.modules, self.args = name, modules, args
        # An exponential moving average of the weights (diffusers' EMAModel's role), exported instead of
        # the last step's: at batch 8 and a learning rate of 1e-3 the last step's weights are noisy.
        self.ema_decay = ema
        self.ema = {k: copy.deepcopy(m).requires_grad_(False) for k, m in modules.items()} if ema else {}
        self.path = args.state / f"{name}.pt"
        self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        self.step, self.seconds, self.losses = 0, 0.0, []
        self.budget = 60 * minutes
        if self.path.exists():
            state = torch.load(self.path, weights_only=False)
            for key, module in modules.items():
                module.load_state_dict(state["modules"][key])
            self.optimizer.load_state_dict(state["optimizer"])
            self.step, self.seconds = state["step"], state["seconds"]
            for key, average in self.ema.items():
                average.load_state_dict(state.get("ema", state["modules"])[key])

    def save(self):
        state = {"modules": {k: m.state_dict() for k, m in self.modules.items()},
                 "ema": {k: m.state_dict() for k, m in self.ema.items()},
                 "optimizer": self.optimizer.state_dict(), "step": self.step, "seconds": self.seconds}
        tmp = self.path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.path)

    def run(self, loss_fn, params, lr, warmup=100):
        for module in self.modules.values():
            module.train()
        last_save = time.time()
        while self.seconds < self.budget:
            start = time.time()
            for group in self.optimizer.param_groups:
                group["lr"] = lr * min(1.0, (self.step + 1) / warmup)
            loss = loss_fn(self.step)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            self.optimizer.step()
            self.update_ema()
            self.step += 1
            self.seconds += time.time() - start
            self.losses.append(loss.item())
            if self.step % 50 == 0:
                print(f"{self.name} step {self.step} loss {np.mean(self.losses[-50:]):.4f} "
                      f"({self.seconds / 60:.1f}/{self.budget / 60:.0f} min)", flush=True)
            if time.time() - last_save > self.args.save_seconds:
                self.save()
                last_save = time.time()
        self.save()
        for key, module in self.modules.items():
            if key in self.ema:
                module.load_state_dict(self.ema[key].state_dict())
            module.eval()
        print(f"{self.name}: {self.step} steps in {self.seconds / 60:.1f} min", flush=True)

    @torch.no_grad()
    def update_ema(self):
        # The decay warms up as in diffusers' EMAModel ((1 + step) / (10 + step)), so early steps count.
        decay = min(self.ema_decay or 0, (1 + self.step) / (10 + self.step))
        for key, average in self.ema.items():
            for a, p in zip(average.parameters(), self.modules[key].parameters()):
                a.lerp_(p, 1 - decay)


def encode_prompts(tokenizer, text_encoder, prompts):
    ids = tokenizer(prompts, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    return text_encoder(ids)[0]


def caption_for(rng, scene, empty, colorless):
    roll = rng.random()
    if roll < empty:
        return ""
    if roll < empty + colorless:
        return scene.caption(colors=False, background=rng.random() < 0.3)
    return scene.caption(colors=True, background=rng.random() < 0.3)


def noisy(noise_scheduler, latents, gen):
    noise = torch.randn(latents.shape, generator=gen)
    t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), generator=gen)
    return noise_scheduler.add_noise(latents, noise, t), noise, t


def diffusion_loss(noise_scheduler, pred, latents, noise, t, gamma=5.0):
    """The v-prediction MSE (the UNet predicts sqrt(a) noise - sqrt(1 - a) latents, SD2's objective),
    weighted by min(SNR, gamma) / (SNR + 1) (Min-SNR, Hang et al. 2023). With epsilon prediction the
    noisiest timesteps, where the colours and the layout are decided, weigh on the image only through
    an error multiplied by sqrt(SNR) (1/12 at t = 950): the committed run drew colours read from the
    noise, not from the prompt. Predicting v weighs the image fully there; Min-SNR keeps the nearly
    clean timesteps, easy and numerous, from dominating."""
    alphas = noise_scheduler.alphas_cumprod[t]
    snr = alphas / (1 - alphas)
    weight = snr.clamp(max=gamma) / (snr + 1)
    target = noise_scheduler.get_velocity(latents, noise, t)
    return (weight * (pred - target).pow(2).mean(dim=(1, 2, 3))).mean()


def train_vae(args, vae):
    stage = Stage("vae", {"vae": vae}, vae.parameters(), args, args.minutes_vae, 2e-3)

    def loss_fn(step):
        rng, scenes = batch("vae", step, args.batch)
        # 32x32 crops: a quarter of the work per step, and flat regions and edges are all the VAE has to learn.
        top, left = rng.randrange(0, SIZE - 31, 4), rng.randrange(0, SIZE - 31, 4)
        x = to_tensor([s.image() for s in scenes])[:, :, top:top + 32, left:left + 32]
        # A plain autoencoder on the posterior's mean (what the UNet is trained on): with sampled latents
        # and SD's KL term the 4 channels collapsed to 2 and the colours blurred together. A small
        # penalty on the mean keeps the latents' scale bounded instead.
        z = vae.encode(x).latent_dist.mean
        recon = vae.decode(z).sample
        # The 8x8-averaged term weighs flat colour, which the per-pixel term learns last.
        colour = F.mse_loss(F.avg_pool2d(recon, 8), F.avg_pool2d(x, 8))
        return F.mse_loss(recon, x) + 4 * colour + 1e-4 * z.pow(2).mean()

    stage.run(loss_fn, list(vae.parameters()), 2e-3)


def latents_of(vae, images):
    with torch.no_grad():
        return vae.encode(to_tensor(images)).latent_dist.mean * vae.config.scaling_factor


@torch.no_grad()
def standardise_latents(vae):
    """Gives every latent channel mean 0 and standard deviation 1 over a fixed batch, folded into the
    VAE's weights (quant_conv divides, post_quant_conv multiplies back), so the VAE computes the same
    images and a runtime needs no per-channel factors; `scaling_factor` is then 1. The trained VAE's
    channels had standard deviations 1.63, 0.12, 0.26 and 1.07: the two small ones carry the colour,
    and under the diffusion's unit noise they were drowned 50-200x earlier than the brightness, so
    the UNet decided colours last and worst. SD's single `scaling_factor` cannot correct that."""
    _, scenes = batch("scale", 0, 128)
    z = vae.encode(to_tensor([s.image() for s in scenes])).latent_dist.mean
    mean, std = z.mean(dim=(0, 2, 3)), z.std(dim=(0, 2, 3))
    channels = mean.numel()
    quant, post = vae.quant_conv, vae.post_quant_conv
    quant.weight[:channels] /= std[:, None, None, None]
    quant.bias[:channels] = (quant.bias[:channels] - mean) / std
    quant.bias[channels:] -= 2 * std.log()  # the log-variance, in the new units
    post.bias += post.weight[:, :, 0, 0] @ mean
    post.weight *= std[None, :, None, None]
    vae.register_to_config(scaling_factor=1.0)


def train_unet(args, vae, tokenizer, text_encoder, unet, noise_scheduler):
    params = list(unet.parameters()) + list(text_encoder.parameters())
    stage = Stage("unet", {"unet": unet, "text_encoder": text_encoder}, params, args, args.minutes_unet, 1e-3, ema=0.998)

    def loss_fn(step):
        rng, scenes = batch("unet", step, args.batch)
        latents = latents_of(vae, [s.image() for s in scenes])
        gen = torch.Generator().manual_seed(step)
        x, noise, t = noisy(noise_scheduler, latents, gen)
        context = encode_prompts(tokenizer, text_encoder, [caption_for(rng, s, 0.1, 0.15) for s in scenes])
        return diffusion_loss(noise_scheduler, unet(x, t, encoder_hidden_states=context).sample, latents, noise, t)

    stage.run(loss_fn, params, 1e-3)


def train_controlnet(args, vae, tokenizer, text_encoder, unet, controlnet, noise_scheduler):
    params = list(controlnet.parameters())
    stage = Stage("controlnet", {"controlnet": controlnet}, params, args, args.minutes_controlnet, 1e-3)

    def loss_fn(step):
        rng, scenes = batch("controlnet", step, args.batch)
        images = [s.image() for s in scenes]
        latents = latents_of(vae, images)
        control = torch.from_numpy(np.stack([canny(i) for i in images]).astype(np.float32) / 255).permute(0, 3, 1, 2)
        gen = torch.Generator().manual_seed(step)
        x, noise, t = noisy(noise_scheduler, latents, gen)
        with torch.no_grad():
            context = encode_prompts(tokenizer, text_encoder, [caption_for(rng, s, 0.3, 0.2) for s in scenes])
        down, mid = controlnet(x, t, encoder_hidden_states=context, controlnet_cond=control, return_dict=False)
        pred = unet(x, t, encoder_hidden_states=context, down_block_additional_residuals=down,
                    mid_block_additional_residual=mid).sample
        return diffusion_loss(noise_scheduler, pred, latents, noise, t)

    stage.run(loss_fn, params, 1e-3)


def train_ip_adapter(args, vae, tokenizer, text_encoder, unet, image_encoder, noise_scheduler):
    params = ip_adapter_parameters(unet) + list(image_encoder.parameters())
    modules = {"image_proj": unet.encoder_hid_proj, "image_encoder": image_encoder,
               "attn": torch.nn.ModuleList([p for p in unet.attn_processors.values() if hasattr(p, "to_k_ip")])}
    stage = Stage("ipadapter", modules, params, args, args.minutes_ipadapter, 1e-3)
    size = image_encoder.config.image_size

    def loss_fn(step):
        rng, scenes = batch("ipadapter", step, args.batch)
        latents = latents_of(vae, [s.image() for s in scenes])
        references = [s.image(shuffled_rng=rng) for s in scenes]
        gen = torch.Generator().manual_seed(step)
        x, noise, t = noisy(noise_scheduler, latents, gen)
        with torch.no_grad():
            context = encode_prompts(tokenizer, text_encoder, [caption_for(rng, s, 0.4, 0.4) for s in scenes])
        embeds = image_encoder(clip_pixels(references, size)).image_embeds
        # 10% without a reference: diffusers and the runtime give classifier-free guidance's negative
        # branch all-zero image embeddings, so the adapter must learn what they mean (as the original
        # IP-Adapter training drops them).
        embeds = embeds * (torch.rand(len(scenes), 1, generator=gen) >= 0.1)
        pred = unet(x, t, encoder_hidden_states=context, added_cond_kwargs={"image_embeds": [embeds[:, None]]}).sample
        return diffusion_loss(noise_scheduler, pred, latents, noise, t)

    stage.run(loss_fn, params, 1e-3)


# ----------------------------------------------------------------------------------------------------------
# Export


def save_f16(module, folder):
    module.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    module.to(torch.float32)


def write_json(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def export(out, vae, text_encoder, unet, controlnet, image_encoder, ip_state):
    pipeline = out / "shapes-sd15"
    folders = (pipeline, out / "controlnets" / "sd-1_5" / "canny", out / "ip-adapters" / "sd-1_5" / "style")
    for folder in folders:  # only what this script writes: --out is the default models directory
        shutil.rmtree(folder, ignore_errors=True)
    save_f16(vae, pipeline / "vae")
    save_f16(text_encoder, pipeline / "text_encoder")
    save_f16(unet, pipeline / "unet")
    shutil.copytree(TOKENIZER, pipeline / "tokenizer")
    scheduler = json.loads(SCHEDULER.read_text())
    write_json(pipeline / "scheduler" / "scheduler_config.json", {**scheduler, "prediction_type": "v_prediction"})
    write_json(pipeline / "model_index.json", {
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
        "requires_safety_checker": False, "safety_checker": [None, None], "feature_extractor": [None, None],
        "image_encoder": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})
    if controlnet is not None:
        save_f16(controlnet, out / "controlnets" / "sd-1_5" / "canny")
    if ip_state is not None:
        adapter = out / "ip-adapters" / "sd-1_5" / "style"
        save_f16(image_encoder, adapter / "image_encoder")
        save_file(ip_state, adapter / "ip-adapter.safetensors")
    total = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())
    print(f"exported {out} ({total / 1e6:.1f} MB)", flush=True)


# ----------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--state", type=Path, default=HERE / "state")
    parser.add_argument("--minutes-vae", type=float, default=8)
    parser.add_argument("--minutes-unet", type=float, default=40)
    parser.add_argument("--minutes-controlnet", type=float, default=15)
    parser.add_argument("--minutes-ipadapter", type=float, default=12)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-seconds", type=float, default=120)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 0.25 min per stage, in /tmp")
    args = parser.parse_args()
    if args.quick:
        args.minutes_vae = args.minutes_unet = args.minutes_controlnet = args.minutes_ipadapter = 0.25
        args.batch = 4
        args.state = Path("/tmp/diffuse-train-quick/state")
        args.out = Path("/tmp/diffuse-train-quick/Trained")
    args.state.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    tokenizer = CLIPTokenizer.from_pretrained(TOKENIZER)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                                    beta_schedule="scaled_linear", prediction_type="v_prediction")
    vae = make_vae()
    train_vae(args, vae)
    standardise_latents(vae)
    vae.requires_grad_(False)

    text_encoder, unet = make_text_encoder(), make_unet()
    train_unet(args, vae, tokenizer, text_encoder, unet, noise_scheduler)
    text_encoder.requires_grad_(False)
    unet.requires_grad_(False)
    export(args.out, vae, text_encoder, unet, None, None, None)

    torch.manual_seed(1)
    controlnet = make_controlnet(unet)
    controlnet.requires_grad_(True)
    train_controlnet(args, vae, tokenizer, text_encoder, unet, controlnet, noise_scheduler)
    controlnet.requires_grad_(False)
    export(args.out, vae, text_encoder, unet, controlnet, None, None)

    torch.manual_seed(2)
    image_encoder = make_image_encoder()
    add_ip_adapter(unet)
    for p in ip_adapter_parameters(unet):
        p.requires_grad_(True)
    train_ip_adapter(args, vae, tokenizer, text_encoder, unet, image_encoder, noise_scheduler)
    ip_state = ip_adapter_state_dict(unet)
    unet.set_default_attn_processor()
    unet.encoder_hid_proj = None
    unet.register_to_config(encoder_hid_dim_type=None, encoder_hid_dim=None)
    export(args.out, vae, text_encoder, unet, controlnet, image_encoder, ip_state)


if __name__ == "__main__":
    main()
