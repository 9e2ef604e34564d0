r"""References of gifsym's reports: the paper, the classical results the lemmas rest on, and gifsym's own
documentation (never files a reader does not have).

A lemma of the library names the section of the mathematics it comes from (``"math.md §5"``); here that
becomes a citation of Gao, Huang & Jiao (JMLR 2024), of the classical result it rests on, and of the
section of the documentation's *Mathematics* page with the same content.

Example:
    >>> reference("bound-slc", "math.md §5")
    "\\cite{gao2024,brascamp1976}; gifsym's documentation \\cite{gifsym}, \\emph{Bounds on the Jacobian}"
    >>> print(bibliography(r"see \cite{gao2024}"))
    \begin{thebibliography}{9}
    \bibitem{gao2024} Y.~Gao, J.~Huang and Y.~Jiao. Gaussian interpolation flows. \emph{Journal of Machine Learning Research}, 25(253):1--52, 2024. arXiv:2311.11475.
    \end{thebibliography}
"""

from __future__ import annotations

import re

from gifsym.output.latex import escape_text
from gifsym.version import __version__

#: The bibliography: the paper, the classical results the lemmas cite, and gifsym's documentation.
BIBLIOGRAPHY = {
    "gao2024": r"Y.~Gao, J.~Huang and Y.~Jiao. Gaussian interpolation flows. \emph{Journal of Machine Learning "
               r"Research}, 25(253):1--52, 2024. arXiv:2311.11475.",
    "brascamp1976": r"H.~J.~Brascamp and E.~H.~Lieb. On extensions of the Brunn--Minkowski and "
                    r"Pr\'ekopa--Leindler theorems, including inequalities for log concave functions, and with "
                    r"an application to the diffusion equation. \emph{Journal of Functional Analysis}, "
                    r"22(4):366--389, 1976.",
    "cramer1946": r"H.~Cram\'er. \emph{Mathematical Methods of Statistics}. Princeton University Press, 1946.",
    "rao1945": r"C.~R.~Rao. Information and the accuracy attainable in the estimation of statistical "
               r"parameters. \emph{Bulletin of the Calcutta Mathematical Society}, 37:81--91, 1945.",
    "gronwall1919": r"T.~H.~Gr\"onwall. Note on the derivatives with respect to a parameter of the solutions of "
                    r"a system of differential equations. \emph{Annals of Mathematics}, 20(4):292--296, 1919.",
    "efron2011": r"B.~Efron. Tweedie's formula and selection bias. \emph{Journal of the American Statistical "
                 r"Association}, 106(496):1602--1614, 2011.",
    "hartman2002": r"P.~Hartman. \emph{Ordinary Differential Equations}, 2nd edition, chapter V. SIAM, 2002.",
    "gifsym": rf"gifsym {escape_text(__version__)}: documentation, page \emph{{Mathematics}} (the setting, the "
              r"identities, the bounds and their proofs as gifsym derives them). Distributed with gifsym and "
              r"built with \texttt{mkdocs}.",
}

#: Classical results cited by lemma (in addition to the paper and gifsym's documentation).
CITATIONS = {
    "brascamp-lieb": ("brascamp1976",),
    "bound-slc": ("brascamp1976",),
    "cramer-rao": ("cramer1946", "rao1945"),
    "bound-slcvx": ("cramer1946", "rao1945"),
    "tweedie": ("efron2011",),
    "hessian-log-density": ("efron2011",),
    "gronwall": ("gronwall1919",),
    "flow-map-lipschitz": ("gronwall1919",),
    "reverse-flow-map-lipschitz": ("gronwall1919",),
    "velocity-stability": ("gronwall1919",),
    "cauchy-lipschitz": ("hartman2002",),
    "well-posed": ("hartman2002",),
}

#: The sections of the documentation's Mathematics page, by the section numbers the lemma library uses.
DOC_SECTIONS = {
    "1": "Setting",
    "2": "Schedule assumptions",
    "3": "Target classes",
    "4": "Identities",
    "5": "Bounds on the Jacobian",
    "6": "Flow maps and stability",
    "7": "The dependency structure",
}



def cite(*keys: str) -> str:
    return r"\cite{" + ",".join(keys) + "}"


def reference(lemma_name: str, reference: str) -> str:
    """The lemma's references: the paper, the classical result it rests on, and the section of gifsym's
    documentation that derives it (the library's "math.md §k" becomes that section's title)."""
    keys = ["gao2024", *CITATIONS.get(lemma_name, ())]
    sections = [DOC_SECTIONS[k] for k in re.findall(r"§\s*(\d+)", reference or "") if k in DOC_SECTIONS]
    out = cite(*dict.fromkeys(keys))
    if sections:
        out += "; gifsym's documentation " + cite("gifsym") + ", " + ", ".join(
            rf"\emph{{{escape_text(s)}}}" for s in dict.fromkeys(sections))
    elif "math.md" not in (reference or "") and reference and not CITATIONS.get(lemma_name):
        out += "; " + escape_text(reference)
    return out


def bibliography(tex: str) -> str:
    """The references cited in ``tex``, in order of first citation."""
    cited = []
    for group in re.findall(r"\\cite\{([^}]*)\}", tex):
        cited += [k.strip() for k in group.split(",")]
    keys = list(dict.fromkeys(k for k in cited if k in BIBLIOGRAPHY))
    if not keys:
        return ""
    lines = [r"\begin{thebibliography}{9}"]
    lines += [rf"\bibitem{{{k}}} {BIBLIOGRAPHY[k]}" for k in keys]
    lines.append(r"\end{thebibliography}")
    return "\n".join(lines)


__all__ = ["BIBLIOGRAPHY", "CITATIONS", "DOC_SECTIONS", "bibliography", "cite", "reference"]
