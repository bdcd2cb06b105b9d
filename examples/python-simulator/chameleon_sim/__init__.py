"""A Chameleon environment simulator written in Python (see ../README.md).

Pure parts (no gRPC): errors, vector_env, point_1d, gaussian_mlp, rollouts.
Wire parts (need the generated stubs on sys.path): wire, service.
"""
