"""axojax: differentiable multiscale axonal injury modelling in JAX.

Stages (one subpackage each, data flowing one way):
    kinematics -> headmodel -> fiberstrain (with brain) -> sampling -> campaign (with axon)
    -> surrogate -> wholebrain; sensitivity spans them.
"""

__version__ = "0.1.0"
