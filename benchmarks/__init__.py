"""Benchmarks of the denoiser library, run from the command line.

``python -m benchmarks.quality`` measures mean PSNR and SSIM on a folder of
images; ``python -m benchmarks.speed`` measures run time on test images of
given sizes. Both write a CSV of every measurement and a markdown summary to
``assets/benchmarks/`` by default.
"""
