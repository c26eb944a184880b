"""Run verl 0.9.1's `verl.trainer.sft_trainer` on CPU, for tests: `torchrun ... verl_cpu.py OVERRIDES`.

verl 0.9.1 cannot train on a CPU as shipped: its platform registry knows only nvidia, npu and rocm and falls
back to "nvidia" (so `init_process_group` asks for NCCL, which the CPU build of torch lacks), its process
group setup hard-codes `cpu:gloo,<device>:<backend>` (a duplicate `cpu` entry on a CPU platform), and the
FSDP engine is registered for cuda and npu only. This runner fills those three gaps through verl's own
extension points (`PlatformRegistry.register`, `VERL_PLATFORM`, `EngineRegistry.register`) plus a gloo
process group, and changes nothing else: the trainer, dataset, FSDP2 engine, loss and checkpointing that run
are verl's. FSDP1 (`engine.strategy=fsdp`) still needs a GPU (`sync_module_states` requires one), so CPU
runs use `engine.strategy=fsdp2`; flash-attention is CUDA-only, so they set `attn_implementation=sdpa`.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry


class _CPUDeviceModule(types.ModuleType):
    """`torch.cpu`, plus the allocator and name queries verl makes of a device module (no-ops on CPU)."""

    def __getattr__(self, name: str) -> Any:
        if hasattr(torch.cpu, name):
            return getattr(torch.cpu, name)
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "get_device_name":
            return lambda *args, **kwargs: "CPU"
        if name == "mem_get_info":
            return lambda *args, **kwargs: (0, 0)
        return lambda *args, **kwargs: 0


_DEVICE = _CPUDeviceModule("verl_cpu_device")


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    device_name = "cpu"
    vendor_name = "cpu"
    device_module = _DEVICE

    def is_available(self) -> bool:
        return True

    def current_device(self) -> Any:
        return "cpu"  # used as `tensor.to(current_device())`: an int would mean cuda:N

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: int | None = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str) -> Iterator[None]:
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "CPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None


def _gloo_process_group(timeout_second: int = 36000) -> tuple[int, int, int]:
    torch.distributed.init_process_group(backend="gloo")
    return int(os.environ["LOCAL_RANK"]), int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])


def main() -> None:
    os.environ["VERL_PLATFORM"] = "cpu"
    import verl.utils.distributed
    from verl.workers.engine.base import EngineRegistry
    from verl.workers.engine.fsdp.transformer_impl import FSDPEngineWithLMHead

    verl.utils.distributed.initialize_global_process_group = _gloo_process_group
    register: Callable[[type], type] = EngineRegistry.register(
        model_type="language_model", backend=["fsdp", "fsdp2"], device="cpu"
    )
    register(FSDPEngineWithLMHead)
    from verl.trainer.sft_trainer import main as sft_main

    sys.argv[0] = "verl.trainer.sft_trainer"
    sft_main()


if __name__ == "__main__":
    main()
