"""DCI's gradient boosting, compiled and threaded: scikit-learn's fit, bit for bit.

Contract: :func:`~infomec.gbt.boosting.fit_gradient_boosting` returns the
``GradientBoostingClassifier`` that scikit-learn fits for the same data, settings and
``random_state``, bit for bit, or scikit-learn's own trees. The compiled parts are used
only after they reproduced scikit-learn's bits on this fit (stage 1 is fitted both ways
and compared); any difference, or a scikit-learn version whose private interface
differs, keeps scikit-learn's own trees (threaded where that is exact, else its plain
loop).

- :mod:`.boosting`: the stage loop, each stage's class trees fitted in threads, with
  the checks above.
- :mod:`.regression_tree`: scikit-learn's best-split regression tree, compiled (numba),
  on features sorted once for the whole fit.
- :mod:`.leaf_update`: scikit-learn's Newton leaf update, compiled without the GIL.

The numba kernels of the trees live here rather than in :mod:`infomec.estimators`
because they are only valid under this contract (they are checked against scikit-learn
at run time, not used alone).
"""
