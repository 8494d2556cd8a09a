// placeholder: tests of the box_mask kernel family.
