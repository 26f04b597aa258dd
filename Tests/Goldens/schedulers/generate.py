"""Writes the DiffusionSchedulers golden fixtures.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/schedulers/generate.py
Python floats are exact doubles, so float32 values survive the JSON round trip unchanged; float32
tensors are written with the fewest digits that give back the same float32 (9 at most, not 17).
"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The hub models' scheduler configs: the shared data folder beside the checkout, or SHARED_DATA.
CONFIGS = os.path.join(os.environ.get("SHARED_DATA", os.path.join(HERE, "..", "..", "..", "..", "shared", "data")),
                       "scheduler-configs")


def write(name, payload):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


def fnv1a64_of_float_bits(values):
    """FNV-1a over the little-endian float32 bit patterns: an exact, compact digest."""
    h = 0xCBF29CE484222325
    for b in np.asarray(values, dtype=np.float32).tobytes():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


# ---------------------------------------------------------------- random source

RNG_CASES = [
    # (seed, successive randn sizes drawn from one generator)
    (0, [1]), (0, [7]), (0, [15]), (0, [16]), (0, [17]), (0, [31]), (0, [100]),
    (0, [4 * 64 * 64]), (42, [4 * 64 * 64]), (1, [1, 1, 1]), (2, [3, 20]), (3, [7, 7, 16, 1]),
    (4, [17, 5, 33]), (5, [5]), (2**32 + 5, [20]), (2**63 + 12345, [31, 3]),
    (2**64 - 1, [16, 15]), (123456789012345, [100, 1, 100]), (7, [4 * 8 * 8, 4 * 8 * 8]),
    (8, [1, 4 * 64 * 64, 5]), (9, [48]), (10, [624, 1]),
]


def rng_case(seed, sizes):
    g = torch.Generator("cpu").manual_seed(seed)
    draws = []
    for n in sizes:
        values = torch.randn(n, generator=g, dtype=torch.float32).tolist()
        if n <= 128:
            draws.append({"count": n, "values": values})
        else:
            draws.append({"count": n, "head": values[:16], "tail": values[-16:],
                          "fnv1a64": fnv1a64_of_float_bits(values)})
    return {"seed": str(seed), "draws": draws}


def random_goldens():
    write("random.json", {"torch": torch.__version__,
                          "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                          "cases": [rng_case(s, n) for s, n in RNG_CASES]})


# ---------------------------------------------------------------- schedulers

CLASSES = [
    "DDIMScheduler", "DDPMScheduler", "DEISMultistepScheduler", "DPMSolverMultistepScheduler",
    "DPMSolverSinglestepScheduler", "EulerAncestralDiscreteScheduler", "EulerDiscreteScheduler",
    "HeunDiscreteScheduler", "KDPM2AncestralDiscreteScheduler", "KDPM2DiscreteScheduler",
    "LCMScheduler", "LMSDiscreteScheduler", "PNDMScheduler", "TCDScheduler", "UniPCMultistepScheduler",
]
LATENT_SHAPE = (1, 4, 8, 8)
# Element indices recorded at every step (the whole latent is recorded after the last step).
PROBES = [0, 9, 37, 70, 101, 150, 199, 255]


def load_config(name):
    with open(os.path.join(CONFIGS, name)) as f:
        return json.load(f)


def base_configs():
    sd15, sdxl = load_config("sd15-pndm.json"), load_config("sdxl-euler.json")
    karras = dict(sdxl, use_karras_sigmas=True, prediction_type="v_prediction", timestep_spacing="trailing")
    return [("sd15-pndm", sd15), ("sdxl-euler", sdxl), ("karras-vpred-trailing", karras)]


def extra_configs():
    sd15 = load_config("sd15-pndm.json")
    dpm = "DPMSolverMultistepScheduler"
    return [
        (dpm, "sde-dpmsolver++", dict(sd15, algorithm_type="sde-dpmsolver++")),
        (dpm, "order3", dict(sd15, solver_order=3)),
        (dpm, "final-sigma-min-karras", dict(sd15, final_sigmas_type="sigma_min", use_karras_sigmas=True)),
        (dpm, "no-lower-order-final", dict(sd15, lower_order_final=False)),
        (dpm, "dpmsolver-heun", dict(sd15, algorithm_type="dpmsolver", solver_type="heun", final_sigmas_type="sigma_min")),
        (dpm, "euler-at-final", dict(sd15, euler_at_final=True)),
        ("UniPCMultistepScheduler", "bh1-sigma-min", dict(sd15, solver_type="bh1", final_sigmas_type="sigma_min")),
        ("UniPCMultistepScheduler", "bh2-order3", dict(sd15, solver_type="bh2", solver_order=3)),
        ("UniPCMultistepScheduler", "karras", dict(sd15, use_karras_sigmas=True)),
        ("DEISMultistepScheduler", "order3", dict(sd15, solver_order=3)),
        ("DPMSolverSinglestepScheduler", "order3", dict(sd15, solver_order=3)),
        ("DPMSolverSinglestepScheduler", "sde-dpmsolver++", dict(sd15, algorithm_type="sde-dpmsolver++")),
        ("DDIMScheduler", "linear-clip-zero-snr", {"beta_schedule": "linear", "clip_sample": True,
                                                   "rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
                                                   "prediction_type": "v_prediction"}),
        ("DDIMScheduler", "cosine-threshold-sample", {"beta_schedule": "squaredcos_cap_v2", "thresholding": True,
                                                      "prediction_type": "sample"}),
        ("DDPMScheduler", "defaults", {}),
        ("EulerDiscreteScheduler", "exponential-sigmas", dict(sd15, use_exponential_sigmas=True)),
        ("EulerDiscreteScheduler", "sigma-min-linspace", dict(sd15, final_sigmas_type="sigma_min",
                                                              timestep_spacing="linspace")),
    ] + option_configs()


def option_configs():
    """One case per option of the issue's list that the cases above leave out (appended, so the
    earlier cases stay byte-identical). A fourth element overrides the step count."""
    sd15, sdxl = load_config("sd15-pndm.json"), load_config("sdxl-euler.json")
    dpm, single, deis, unipc = ("DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
                                "DEISMultistepScheduler", "UniPCMultistepScheduler")
    trained = {"num_train_timesteps": 100, "trained_betas": [0.001 * (i + 1) for i in range(100)]}
    return [
        (dpm, "sde-dpmsolver-sigma-min", dict(sd15, algorithm_type="sde-dpmsolver", final_sigmas_type="sigma_min")),
        (dpm, "exponential-sigmas", dict(sd15, use_exponential_sigmas=True)),
        # (squaredcos_cap_v2 with karras sigmas repeats its first timestep, which diffusers cannot run.)
        (dpm, "karras-threshold-vpred", dict(sd15, use_karras_sigmas=True, thresholding=True,
                                             prediction_type="v_prediction", sample_max_value=1.5)),
        (dpm, "lambda-clip-zero-snr-leading", dict(sd15, lambda_min_clipped=-5.1, rescale_betas_zero_snr=True,
                                                   timestep_spacing="leading")),
        (dpm, "dpmsolver-order3-sigma-min", dict(sd15, algorithm_type="dpmsolver", solver_order=3,
                                                 final_sigmas_type="sigma_min")),
        (dpm, "sde-dpmsolver++-heun-order3", dict(sd15, algorithm_type="sde-dpmsolver++", solver_type="heun",
                                                  solver_order=3)),
        (dpm, "dpmsolver-threshold-sample", dict(sd15, algorithm_type="dpmsolver", thresholding=True,
                                                 prediction_type="sample", final_sigmas_type="sigma_min")),
        (dpm, "20-steps-trailing", dict(sdxl, timestep_spacing="trailing"), 20),
        (dpm, "trained-betas", trained),
        (single, "dpmsolver-heun-order3", dict(sd15, algorithm_type="dpmsolver", solver_type="heun", solver_order=3,
                                               final_sigmas_type="sigma_min", lower_order_final=False)),
        (single, "karras-sigma-min-no-lower-order-final", dict(sd15, use_karras_sigmas=True,
                                                               final_sigmas_type="sigma_min", lower_order_final=False)),
        (single, "sde-heun-order3-exponential", dict(sd15, algorithm_type="sde-dpmsolver++", solver_type="heun",
                                                     solver_order=3, use_exponential_sigmas=True)),
        (single, "odd-steps-lambda-clip-vpred", dict(sd15, lambda_min_clipped=-3.0, prediction_type="v_prediction",
                                                     final_sigmas_type="sigma_min", lower_order_final=False), 11),
        (deis, "exponential-trailing", dict(sd15, use_exponential_sigmas=True, timestep_spacing="trailing")),
        (deis, "order1-threshold-leading", dict(sd15, solver_order=1, thresholding=True, timestep_spacing="leading")),
        (deis, "20-steps-order3", dict(sd15, solver_order=3), 20),
        (unipc, "noise-prediction-bh1-order3", dict(sd15, predict_x0=False, solver_type="bh1", solver_order=3,
                                                     final_sigmas_type="sigma_min")),
        (unipc, "karras-bounds-disable-corrector", dict(sd15, use_karras_sigmas=True, sigma_min=0.05, sigma_max=12.0,
                                                        final_sigmas_type="sigma_min", disable_corrector=[0, 3])),
        (unipc, "threshold-zero-snr-vpred-trailing", dict(sd15, thresholding=True, rescale_betas_zero_snr=True,
                                                          prediction_type="v_prediction", timestep_spacing="trailing")),
        (unipc, "exponential-sigma-min-20-steps", dict(sd15, use_exponential_sigmas=True, solver_order=3,
                                                       final_sigmas_type="sigma_min"), 20),
        ("KDPM2DiscreteScheduler", "exponential-sigmas", dict(sd15, use_exponential_sigmas=True)),
        ("KDPM2AncestralDiscreteScheduler", "exponential-leading", dict(sdxl, use_exponential_sigmas=True)),
        ("LCMScheduler", "original-25-scaling-threshold", dict(sd15, original_inference_steps=25, timestep_scaling=5.0,
                                                               thresholding=True, set_alpha_to_one=False)),
        ("LCMScheduler", "clip-zero-snr-linear", dict(sd15, clip_sample=True, clip_sample_range=0.8,
                                                      rescale_betas_zero_snr=True, beta_schedule="linear")),
        ("TCDScheduler", "original-30-sample-cosine", dict(sd15, original_inference_steps=30, prediction_type="sample",
                                                           set_alpha_to_one=False, beta_schedule="squaredcos_cap_v2")),
        ("DDPMScheduler", "small-log-vpred-zero-snr-trailing", dict(sd15, variance_type="fixed_small_log",
                                                                    prediction_type="v_prediction",
                                                                    rescale_betas_zero_snr=True,
                                                                    timestep_spacing="trailing")),
        ("DDPMScheduler", "large-threshold-linspace", dict(sd15, variance_type="fixed_large", thresholding=True,
                                                           timestep_spacing="linspace")),
        ("DDIMScheduler", "trained-betas", trained),
        ("EulerDiscreteScheduler", "beta-sigmas-bounds", dict(sdxl, use_beta_sigmas=True, sigma_min=0.1, sigma_max=10.0)),
        ("HeunDiscreteScheduler", "beta-sigmas", dict(sd15, use_beta_sigmas=True)),
        ("KDPM2DiscreteScheduler", "beta-sigmas", dict(sd15, use_beta_sigmas=True)),
        (dpm, "lu-lambdas", dict(sd15, use_lu_lambdas=True)),
        (dpm, "beta-sigmas-sigma-min", dict(sd15, use_beta_sigmas=True, final_sigmas_type="sigma_min")),
        (single, "beta-sigmas", dict(sd15, use_beta_sigmas=True)),
        (deis, "beta-sigmas", dict(sd15, use_beta_sigmas=True)),
        (unipc, "beta-sigmas-sigma-min", dict(sd15, use_beta_sigmas=True, final_sigmas_type="sigma_min")),
        ("PNDMScheduler", "runge-kutta-defaults", {}),
        ("PNDMScheduler", "runge-kutta-vpred-trailing", dict(sd15, skip_prk_steps=False, prediction_type="v_prediction",
                                                             timestep_spacing="trailing")),
        ("EulerDiscreteScheduler", "continuous-vpred", dict(sdxl, timestep_type="continuous", prediction_type="v_prediction")),
        ("EulerDiscreteScheduler", "log-linear", dict(sd15, interpolation_type="log_linear")),
        ("EulerDiscreteScheduler", "log-linear-karras-continuous-trailing",
         dict(sdxl, interpolation_type="log_linear", use_karras_sigmas=True, timestep_type="continuous",
              prediction_type="v_prediction", timestep_spacing="trailing")),
    ]


def dummy_model(x, t):
    """A fixed stand-in for the UNet; Swift's test computes the same float32 operations."""
    t = float(t)
    return x * (0.8 * math.cos(t / 300.0)) + torch.sin(x * 3.0 + t / 100.0) * 0.1


def floats(tensor):
    """The values as Python floats; a float32 tensor's as the shortest decimals of its float32 values."""
    if tensor.dtype == torch.float32:
        return [float(np.format_float_positional(v, unique=True)) for v in tensor.detach().flatten().numpy()]
    return tensor.detach().to(torch.float64).flatten().tolist()


def run_scheduler(class_name, config, steps, seed):
    import diffusers

    scheduler = getattr(diffusers, class_name).from_config(config)
    scheduler.set_timesteps(steps)
    generator = torch.Generator("cpu").manual_seed(seed)
    sample = torch.randn(LATENT_SHAPE, generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    takes_generator = "generator" in scheduler.step.__code__.co_varnames
    record = {
        "class": class_name, "config": config, "steps": steps, "seed": seed,
        "order": scheduler.order,
        "timesteps": floats(scheduler.timesteps),
        "init_noise_sigma": float(scheduler.init_noise_sigma),
        "initial_probe": [floats(sample)[i] for i in PROBES],
        "loop": [],
    }
    if hasattr(scheduler, "sigmas") and scheduler.sigmas is not None:
        record["sigmas"] = floats(torch.as_tensor(scheduler.sigmas))
    for t in scheduler.timesteps:
        scaled = scheduler.scale_model_input(sample, t)
        output = dummy_model(scaled, t)
        extra = {"generator": generator} if takes_generator else {}
        sample = scheduler.step(output, t, sample, return_dict=False, **extra)[0]
        scaled_values, sample_values = floats(scaled), floats(sample)
        record["loop"].append({"timestep": float(t), "scaled": [scaled_values[i] for i in PROBES],
                               "sample": [sample_values[i] for i in PROBES]})
    record["final"] = floats(sample)
    return record


def scheduler_goldens():
    import diffusers

    cases = []
    for name, config in base_configs():
        for class_name in CLASSES:
            cases.append(dict(run_scheduler(class_name, config, 10, 1234), name=name))
    for class_name, name, config, *steps in extra_configs():
        cases.append(dict(run_scheduler(class_name, config, steps[0] if steps else 12, 99), name=name))
    write("schedulers.json", {"diffusers": diffusers.__version__, "torch": torch.__version__,
                              "probes": PROBES, "cases": cases})


if __name__ == "__main__":
    torch.set_num_threads(1)
    random_goldens()
    scheduler_goldens()
