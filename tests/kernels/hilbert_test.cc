// placeholder: tests of the hilbert kernel family.
