"""What BLAS a Python benchmark side runs on, for the line the TypeScript benchmark prints:
threadpoolctl's view of the loaded BLAS / OpenMP libraries (library, version, kernel, threads)
and, for torch, torch.__config__'s BLAS_INFO and CPU capability with torch.get_num_threads()."""
import re


def _threadpools():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        # Debian's python3 has no threadpoolctl: name the BLAS library the loader resolves instead.
        import os

        blas = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
        target = os.path.realpath(blas) if os.path.exists(blas) else "unknown"
        kind = "reference BLAS" if "/blas/" in target else "optimised BLAS"
        return f"threadpoolctl not installed; libblas.so.3 -> {target} ({kind})"
    parts = []
    for p in threadpool_info():
        kernel = p.get("architecture")
        parts.append(
            f"{p.get('internal_api')} {p.get('version') or ''}".strip()
            + (f", kernel {kernel}" if kernel else "")
            + f", {p.get('num_threads')} threads"
        )
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def numpy_blas():
    import numpy as np

    return {"library": f"numpy {np.__version__}", "blas": _threadpools()}


def torch_blas():
    import torch

    config = torch.__config__.show()
    info = re.search(r"BLAS_INFO=(\w+)", config)
    capability = re.search(r"CPU capability usage: (\w+)", config)
    return {
        "library": f"torch {torch.__version__}",
        "blas": f"BLAS_INFO={info.group(1) if info else '?'}"
        + (f", CPU capability {capability.group(1)}" if capability else "")
        + f", torch.get_num_threads() {torch.get_num_threads()}; threadpools: {_threadpools()}",
    }
