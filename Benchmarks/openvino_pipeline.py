"""Case (d) in OpenVINO (`reference_generate.py --runtime openvino`): the networks diffusers'
StableDiffusionControlNetPipeline runs (text encoder, ViT-H image encoder, the UNet with the IP-Adapter's
attention processors and its ControlNet as one denoiser, the VAE decoder) converted at the request's
static shapes, and the pipeline's own loop around them in Python: the same tokenizer, image processors,
scheduler, latents from the same seed, classifier-free guidance, post-processing.
"""
import os

import torch
from diffusers.pipelines.controlnet.pipeline_controlnet import retrieve_timesteps

import openvino_support


class Traced(torch.nn.Module):
    """`function(owner, *tensors)` as a module of tensors (what the conversion traces)."""

    def __init__(self, owner, function):
        super().__init__()
        self.owner, self.function = owner, function

    def forward(self, *tensors):
        return self.function(self.owner, *tensors)


def save_networks(pipe, body, conditioning_scale, folder):
    """Converts the pipeline's four networks at the request's shapes (batch 2 for the denoiser's
    classifier-free guidance) and saves them in `folder`."""
    latent = (body["height"] // pipe.vae_scale_factor, body["width"] // pipe.vae_scale_factor)
    size, channels = pipe.image_encoder.config.image_size, pipe.unet.config.in_channels
    networks = {
        "text_encoder": (Traced(pipe.text_encoder, lambda model, ids: model(ids)[0]),
                         [torch.zeros(1, pipe.tokenizer.model_max_length, dtype=torch.int64)]),
        "image_encoder": (Traced(pipe.image_encoder, lambda model, pixels: model(pixels).image_embeds),
                          [torch.zeros(1, 3, size, size)]),
        "denoiser": (openvino_support.Denoiser(pipe.unet, pipe.controlnet, ("image_embeds",), conditioning_scale),
                     [torch.randn(2, channels, *latent), torch.tensor(500),
                      torch.randn(2, pipe.tokenizer.model_max_length, pipe.unet.config.cross_attention_dim),
                      torch.rand(2, 3, body["height"], body["width"]),
                      torch.randn(2, 1, pipe.image_encoder.config.projection_dim)]),
        "vae_decoder": (Traced(pipe.vae, lambda vae, z: vae.decode(z, return_dict=False)[0]),
                        [torch.randn(1, channels, *latent)]),
    }
    for name, (module, inputs) in networks.items():
        openvino_support.save(module, inputs, os.path.join(folder, f"{name}.xml"))


class OpenVINOPipeline:
    """The four compiled networks inside `pipe`, a StableDiffusionControlNetPipeline loaded without its
    networks (its tokenizer, scheduler and image processors)."""

    def __init__(self, pipe, scaling_factor, converted, threads):
        self.pipe, self.scaling_factor = pipe, scaling_factor
        self.networks = {name: openvino_support.compile(converted.path(name), threads).create_infer_request()
                         for name in ("text_encoder", "image_encoder", "denoiser", "vae_decoder")}

    @property
    def scheduler(self):
        return self.pipe.scheduler

    def run(self, name, *tensors):
        return torch.from_numpy(self.networks[name].infer([x.numpy() for x in tensors])[0].copy())

    def __call__(self, prompt, negative_prompt, image, ip_adapter_image, num_inference_steps, guidance_scale,
                 width, height, generator):
        """What `StableDiffusionControlNetPipeline.__call__` computes for one image with one ControlNet and one
        IP-Adapter (classifier-free guidance, ControlNet on every step), as floats in [0, 1]."""
        if guidance_scale <= 1:
            raise ValueError(f"guidance {guidance_scale}: the denoiser is converted for classifier-free guidance (> 1)")
        pipe = self.pipe
        prompt_embeds = torch.cat([self.encode_text(negative_prompt or ""), self.encode_text(prompt)])
        pixels = pipe.feature_extractor(ip_adapter_image, return_tensors="pt").pixel_values
        image_embeds = self.run("image_encoder", pixels)[None]
        image_embeds = torch.cat([torch.zeros_like(image_embeds), image_embeds])
        control = pipe.prepare_image(image=image, width=width, height=height, batch_size=1, num_images_per_prompt=1,
                                     device="cpu", dtype=torch.float32, do_classifier_free_guidance=True)
        timesteps, _ = retrieve_timesteps(pipe.scheduler, num_inference_steps, "cpu")
        channels = self.networks["denoiser"].model_inputs[0].get_shape()[1]
        latents = pipe.prepare_latents(1, channels, height, width, torch.float32, "cpu", generator)
        extra_step_kwargs = pipe.prepare_extra_step_kwargs(generator, 0.0)
        for t in timesteps:
            model_input = pipe.scheduler.scale_model_input(torch.cat([latents] * 2), t)
            noise_uncond, noise_text = self.run("denoiser", model_input, t, prompt_embeds, control, image_embeds).chunk(2)
            noise_pred = noise_uncond + guidance_scale * (noise_text - noise_uncond)
            latents = pipe.scheduler.step(noise_pred, t, latents, **extra_step_kwargs, return_dict=False)[0]
        image = self.run("vae_decoder", latents / self.scaling_factor)
        return pipe.image_processor.postprocess(image, output_type="np", do_denormalize=[True])[0]

    def encode_text(self, text):
        tokenizer = self.pipe.tokenizer
        ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids
        return self.run("text_encoder", ids)
