"""One torch thread for a block of work.

torch's many small operations (NL-means' element-wise passes, WNNM's and
EPLL's batched products, a network's convolutions on a small image, the
digits network's training steps) ran 3 to 10 times slower on two threads than
on one wherever other work shared the CPU (the project's 2-core machine, a
server with several visitors), with the same results bit for bit.

torch's CPU build here runs its operations with OpenMP, whose thread count
belongs to the calling thread: ``torch.set_num_threads(1)`` in one of the
server's session threads leaves every other session's count as it was
(``tests/test_threads.py`` checks it). So a block sets its own thread's count
and puts back what it found; nested blocks restore the outer one's. torch is
imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the calling thread's torch operations on one thread inside the block."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
