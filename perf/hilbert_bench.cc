// placeholder: filled in by the hilbert kernel family
