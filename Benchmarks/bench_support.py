"""What the PyTorch side of the benchmarks shares: the random models' configs and weight manifests,
Benchmarks/<kind>/<name>.json (the model's config.json) and <kind>/<name>.weights.json (every weight's
name and shape, which diffuse-bench fills with random F16 values), and the JSON result line."""
import json
import os
import resource

HERE = os.path.dirname(os.path.abspath(__file__))


def config_path(kind, name):
    return os.path.join(HERE, kind, f"{name}.json")


def read_config(kind, name):
    """<kind>/<name>.json without diffusers' private keys (`_class_name`, ...), ready for `Model(**config)`."""
    with open(config_path(kind, name)) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def write_shapes(shapes, kind, name):
    """Writes `{weight name: shape}` to <kind>/<name>.weights.json, one weight a line, sorted."""
    with open(os.path.join(HERE, kind, f"{name}.weights.json"), "w") as f:
        f.write("{\n" + ",\n".join(f'"{k}": {list(shapes[k])}' for k in sorted(shapes)) + "\n}\n")


def write_config(model, kind, name):
    """Writes a diffusers model's config to <kind>/<name>.json, one key a line, without diffusers' version."""
    config = {k: v for k, v in json.loads(model.to_json_string()).items() if k != "_diffusers_version"}
    with open(config_path(kind, name), "w") as f:
        f.write("{\n" + ",\n".join(f'  "{k}": {json.dumps(config[k])}' for k in sorted(config)) + "\n}\n")


def state_shapes(module):
    return {k: v.shape for k, v in module.state_dict().items()}


def print_result(**fields):
    """Prints `fields` and the process's peak resident memory as one JSON line."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({**fields, "peak_rss_bytes": peak}))
