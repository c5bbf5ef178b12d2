"""The study: the cases of the reproduced paper run for several strategies, analysed, compared and reported.

- ``plan``: the parts, their sizes (Plan) and the runs in order (StudyRun)
- ``execute``: running a StudyRun into its folder, reusing a finished one
- ``single_points``: the grid's energies of the built ice cells, in-process
- ``summary``: the typed numbers of the report (gas rows, replay convergence, ice cells and relative energies)
- ``render``: the opening sentences, the HTML report and summary.txt

The command line is :mod:`symbreak.commands.study`.
"""
