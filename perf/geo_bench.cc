// placeholder: filled in by the geo kernel family
