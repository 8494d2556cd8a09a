// placeholder: scalar reference of the hilbert kernel family.
