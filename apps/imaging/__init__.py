"""The enhancement engine: pure Python + numpy, no Django.

Everything a worker, a shell or the command line needs is reachable from here:

    from apps.imaging import codec, operations
    picture = codec.decode(data, codec.Limits())
    result = operations.run("dehaze", picture, {}, print)
"""
