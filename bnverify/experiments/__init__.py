"""Figure reproductions of the paper's least-squares experiments (Sec. 4.1, App. B.2).

* :mod:`.fig1` -- Fig. 1, BNGD versus optimal GD (claims F1, F1.claims);
* :mod:`.mbngd` -- Fig. 5-8, MBNGD versus GD and the near-optimal eps interval (F5-F8);
* :mod:`.figures` -- :func:`make_figure`, what ``bnverify figure ID`` runs (files + summaries);
* :mod:`.plotting` -- matplotlib drawing, styled close to the paper;
* :mod:`.progress` -- the text progress bar on stderr.
"""

from .figures import FIGURE_IDS, make_figure

__all__ = ["FIGURE_IDS", "make_figure"]
