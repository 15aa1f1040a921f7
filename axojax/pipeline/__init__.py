"""The end-to-end study as a library: `axojax.pipeline.run(config, out)`.

One module per stage; each stage takes the config and the previous stage's result, writes its own
folder atomically, and returns what the next stage needs; rerunning a finished stage reads its
folder instead of computing. The command line (`axojax run`) is a thin shell over `run`.

Output folder layout:

    DIR/config.json                 the `RunConfig` of the run (a rerun with another config is refused)
    DIR/profiles/                   fiber strain store (`axojax.fiberstrain.ProfileDataset`)
    DIR/sampling/selection.npz      adaptive training selection (+ learning-curve pool), worst-case set
    DIR/sampling/coverage.json      coverage of the kept set vs the candidate pool
    DIR/campaign/                   axon model outputs of every selected profile (`axojax.campaign`)
    DIR/augment/                    axon model outputs of the training profiles' amplitude variants
    DIR/sampling/worst_case.npz     t_s, profiles, outputs, voxel of the worst-case set
    DIR/surrogate/model/            orbax checkpoint of the trained surrogate
    DIR/surrogate/learning_curve.json, validation.json, fit.json
    DIR/maps/*.nii.gz               whole-white-matter maps of the held-out impact
    DIR/figures/*.png               learning curve, predicted vs simulated, map slices, coverage
    DIR/metrics.json                everything measured, with timings
"""

from axojax.pipeline._run import STAGES as STAGES
from axojax.pipeline._run import run as run
from axojax.pipeline.config import PRESETS as PRESETS
from axojax.pipeline.config import RunConfig as RunConfig
from axojax.pipeline.config import config_from_dict as config_from_dict
from axojax.pipeline.config import load_config as load_config
from axojax.pipeline.config import template_toml as template_toml
from axojax.pipeline.predict import predict as predict
