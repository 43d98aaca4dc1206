"""gRPC transport: server, error interceptor, peer channels, and the protobuf codec.

The only package that imports generated protobuf code.
"""
