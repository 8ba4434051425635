"""The input layer: every latents / sources value is read, interpreted, checked, encoded.

One module per step, data flowing one way (each imports only the steps before it):

1. **read** -- :mod:`~infomec.inputs.files` (files, recognised by content; delimited
   text in :mod:`~infomec.inputs.text`) and :mod:`~infomec.inputs.frameworks` (torch,
   JAX and pandas objects in memory) turn what the user has into numpy columns with
   names and, where there is one, a row index.
2. **interpret** -- :mod:`~infomec.inputs.interpret` and :mod:`~infomec.inputs.labels`
   give each column one supported dtype and normalise text labels.
3. **check** -- :mod:`~infomec.inputs.check` refuses or warns, naming the column.
4. **encode** -- :mod:`~infomec.inputs.encode` turns checked columns into the label
   codes the kernels take.

:mod:`~infomec.inputs.pipeline` runs the four steps for one call of every door
(``infomec.score``, the CLI, :class:`~infomec.Collector`, ``report``, ``sweep``, the
trainer's evaluation), and :mod:`~infomec.inputs.digest` records how each input was
read (the *input digest* that ``infomec inspect`` prints and every result carries).
"""
