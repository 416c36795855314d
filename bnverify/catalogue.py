"""The claims catalogue, embedded (generated from shared/paper/CLAIMS.md; do not edit by hand).

Each entry: ID, catalogue section, where it stands in the paper, the statement **as printed**
(with the catalogue's ``[garbled]`` marks). ``tests/test_catalogue.py`` compares this copy with the
catalogue whenever ``../shared/paper/CLAIMS.md`` is present.
"""

from __future__ import annotations

from typing import NamedTuple


class CatalogueEntry(NamedTuple):
    id: str
    section: str
    where: str
    statement: str


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry('S2.GD-step', 'Section 2: model and critical points', 'eq. 3', 'GD `w_{k+1} = (I − εH) w_k + ε g` converges iff `0 < ε < 2/λmax`'),
    CatalogueEntry('S2.GD-rate', 'Section 2: model and critical points', 'eq. 4', '`‖u − w_{k+1}‖ ≤ ρ(I − εH) ‖u − w_k‖`, `ρ = max_i |1 − ε λ_i|`'),
    CatalogueEntry('S2.GD-opt', 'Section 2: model and critical points', 'eq. 5', '`ε_opt = 2/(λmax + λmin)` gives rate `(κ − 1)/(κ + 1)`'),
    CatalogueEntry('S2.BN-objective', 'Section 2: model and critical points', 'eq. 6–7', '`J(a,w) = ½ E[(y − a x^T w/σ)^2] = C − (w^T g/σ) a + ½ a^2` `[garbled constant: "C"]`'),
    CatalogueEntry('S2.trivial-saddles', 'Section 2: model and critical points', 'after eq. 7', '`{a = 0, w^T g = 0}` are critical points and are saddle points'),
    CatalogueEntry('S2.minimizers', 'Section 2: model and critical points', 'eq. 8', 'nontrivial critical points: `a* = sign(s) sqrt(u^T H u)`, `w* = s u`, `s ≠ 0`; they are global minimizers'),
    CatalogueEntry('S2.degenerate', 'Section 2: model and critical points', 'eq. 8', 'the Hessian at each global minimizer is degenerate'),
    CatalogueEntry('S2.strict', 'Section 2: model and critical points', 'eq. 8', 'the saddle points are strict (Hessian has a negative eigenvalue)'),
    CatalogueEntry('P3.2-1', 'Section 3: scaling, convergence, rates', 'Prop. 3.2(1), Lemma A.8(1)', 'configurations `{μ Q^T H Q, √μ Q u, γ a0, γ Q w0, εa, ε}` and `{H, u, a0, w0, εa, ε}` are equivalent (Def. 3.1), for `μ, γ ≠ 0`, `Q^T Q = I` `[garbled: main text prints "√μ Q u"; appendix prints "√γμ Qu"; conditions print as "μ = 0, γ = 0, r = 0"]`'),
    CatalogueEntry('P3.2-2', 'Section 3: scaling, convergence, rates', 'Prop. 3.2(2)', '`{H, u, a0, w0, εa, ε}` and `{H, u, a0, r w0, εa, r^2 ε}` are equivalent, `r ≠ 0`'),
    CatalogueEntry('L-A.9', 'Section 3: scaling, convergence, rates', 'Lemma A.9, eq. 29–33', 'for a general loss `f(y, z)` with BN, `{w0, ε, …}` and `{r w0, r^2 ε, …}` are equivalent'),
    CatalogueEntry('T3.3', 'Section 3: scaling, convergence, rates', 'Thm. 3.3, Thm. A.17', 'for any `(a0, w0)`, any `ε > 0`, any `εa ∈ (0, 1]`, `(a_k, w_k)` converges to a stationary point'),
    CatalogueEntry('T3.3-1', 'Section 3: scaling, convergence, rates', 'Thm. 3.3(1)', 'if `a0 w0^T g > 0` (or `a0 = 0, w0^T g ≠ 0`), `εa ∈ (0,1]`, `ε` small enough (Lemma A.13), the limit is a global minimizer'),
    CatalogueEntry('T3.3-2', 'Section 3: scaling, convergence, rates', 'Thm. 3.3(2), Thm. A.21', 'if `εa = 1`, `ε > 0`: converges to global minimizers for almost all `(a0, w0)`'),
    CatalogueEntry('S3.norm-monotone', 'Section 3: scaling, convergence, rates', 'proof sketch', '`‖w_k‖` is monotone increasing'),
    CatalogueEntry('S3.no-saddle', 'Section 3: scaling, convergence, rates', 'after proof sketch', 'empirically, no convergence to saddles for `εa ∈ (0, 2)` from typical random initial values'),
    CatalogueEntry('S3.eff-step', 'Section 3: scaling, convergence, rates', 'eq. 11', 'effective step `ε̂_k := ε (a_k/σ_k)(w_k^T g/σ_k^2)`'),
    CatalogueEntry('S3.recurrence', 'Section 3: scaling, convergence, rates', 'eq. 12', '`u − (w_k^T g/σ_k^2) w_{k+1} = (I − ε̂_k H)(u − (w_k^T g/σ_k^2) w_k)`'),
    CatalogueEntry('S3.contraction', 'Section 3: scaling, convergence, rates', 'eq. 13', '`e_k := u − (w_k^T g/σ_k^2) w_k`; `‖e_{k+1}‖_H ≤ ‖u − (w_k^T g/σ_k^2) w_{k+1}‖_H ≤ ρ(I − ε̂_k H) ‖e_k‖_H`'),
    CatalogueEntry('S3.linear', 'Section 3: scaling, convergence, rates', 'after eq. 13', 'convergence of `e_k` is linear if `ε̂_k ∈ (δ, 2/λmax − δ)`'),
    CatalogueEntry('S3.Hstar', 'Section 3: scaling, convergence, rates', 'eq. 14, 23', 'Hessian at a minimizer is `diag(1, H*/‖w*‖^2)`, `H* = H − H u u^T H/(u^T H u)`'),
    CatalogueEntry('S3.Hstar-psd', 'Section 3: scaling, convergence, rates', 'after eq. 14', '`H*` is PSD, `H* u = 0`, `κ* := λ*max/λ*min ≤ κ` (nonzero eigenvalues), `κ* < κ` for almost all `u`'),
    CatalogueEntry('P3.4', 'Section 3: scaling, convergence, rates', 'Prop. 3.4, eq. 15', 'for `δ ∈ (0,1)`, if `λmax ε |a_k| ‖e_k‖_H / σ_k^2 ≤ δ` `[garbled]` then `‖e_{k+1}‖_H ≤ min{ (ρ*(I − ε̂_k H*) + δ)/(1 − δ) [garbled], ρ(I − ε̂_k H) } ‖e_k‖_H`, `ρ*(I − εH*) = max{|1 − ελ*min|, |1 − ελ*max|}`'),
    CatalogueEntry('S3.acceleration', 'Section 3: scaling, convergence, rates', 'after Prop. 3.4', '`ρ*(I − εH*) ≤ ρ(I − εH)` for `ε > 0`; `ρ*_opt = (κ*−1)/(κ*+1) ≤ (κ−1)/(κ+1)`, strict for almost all `u`'),
    CatalogueEntry('P3.5', 'Section 3: scaling, convergence, rates', 'Prop. 3.5', 'if `εa ∈ (0,1]`, `a0 w0^T g > 0` and `‖g‖^2 ≥ (w0^T g/σ0^2) g^T H w0` `[garbled]`: (1) for `ε ≪ 1`, `C1 ≤ ε̂_k/ε ≤ C2`; (2) for `ε ≫ 1`, `C1 ≤ ε̂_k ε ≤ C2`, constants independent of `ε` and `k`'),
    CatalogueEntry('S3.insensitive', 'Section 3: scaling, convergence, rates', 'after Prop. 3.5', 'for finite `k` there is `ε0 > 0` with `dε̂_k/dε = 0` at `ε0`'),
    CatalogueEntry('F1', 'Section 4: experiments', 'Fig. 1, §4.1', '`H = diag(logspace(0, log10 κ, 100))`, `u` uniform on the unit sphere of R^100, `w0 = Hu/‖Hu‖`, 2000 steps of GD (at `ε_opt`) and BNGD from the same `w0`; `εa` in `1.99·logspace(−10, 0, 41)`, `ε` in `logspace(−5, 16, 43)`, `a0 ∈ {10, 1, 0.01, 1e−4, 1e−8}`; four colours: (`0.8 ε_opt < ε̂_k < ε_opt/0.8`?) × (BNGD loss < optimal-GD loss?)'),
    CatalogueEntry('F1.claims', 'Section 4: experiments', '§4.1', 'optimal BNGD can beat optimal GD in some configurations; BNGD greatly widens the range of near-optimal `ε`; that range shrinks as `a0` grows; small `εa` weakens BN'),
    CatalogueEntry('F2', 'Section 4: experiments', 'Fig. 2, §4.2', '2CNN+2FC on MNIST, BN on all layers, BN eps 1e−3, weights and biases (not BN params) scaled by `η` after Glorot init: loss after epoch 1 vs learning rate obeys the scaling law for large `η`, curves shift for small `η`'),
    CatalogueEntry('F3', 'Section 4: experiments', 'Fig. 3, §4.2', 'loss after epoch 1 vs learning rate, mean of 5 runs, batch 100: MNIST 1FC (784×10, softmax + mean-square loss), Fashion-MNIST 2CNN+2FC, CIFAR-10 2CNN+3FC (Conv-MaxPool-Conv-MaxPool-FC-FC(-FC), ReLU, cross-entropy); GD, BNGD with one shared learning rate, BNGD with separate `lr_a` for BN parameters'),
    CatalogueEntry('F3.claims', 'Section 4: experiments', '§4.2', 'GD and shared-lr BNGD have a maximum stable learning rate; separate-lr BNGD is stable over a much larger range; BN accelerates deep nets more than the 1-layer net; the range of near-optimal learning rates of BNGD is large'),
    CatalogueEntry('E16', 'Appendix A', 'eq. 16', '`J(a,w) = ½ (u − a w/σ)^T H (u − a w/σ) = ½‖u‖_H^2 − (w^T g/σ) a + ½ a^2` (equivalent form)'),
    CatalogueEntry('E17-18', 'Appendix A', 'eq. 17–18', '`∂J/∂a = −(1/σ) w^T g + a`; `∂J/∂w = −(a/σ) g + (a/σ^3)(w^T g) H w`'),
    CatalogueEntry('E19-21', 'Appendix A', 'eq. 19–21', 'Hessian blocks: `∂²J/∂a² = 1`; `A21 = −(1/σ)(g − (w^T g/σ^2) H w)`; `A22 = (a/σ^3)[(w^T g) H + (Hw) g^T + g (Hw)^T − (3 w^T g/σ^2)(Hw)(Hw)^T]` `[garbled]`'),
    CatalogueEntry('A1.saddle-eigs', 'Appendix A', '§A.1', 'at a saddle `(0, w*)`: eigenvalues `{½(1 ± sqrt(1 + 4‖g‖^2/(w*^T H w*))), 0, …, 0}`, "which contains d−2 repeated zero, a positive and a negative eigenvalue"'),
    CatalogueEntry('E22-23', 'Appendix A', 'eq. 22–23', 'nontrivial critical points `a* = ±sqrt(u^T H u)`, `w* ∥ u`, `sign(a*) = sign(u^T w*)`; global minimizers; Hessian `diag(1, H*/‖w*‖^2)`'),
    CatalogueEntry('L-A.1', 'Appendix A', 'Lemma A.1, eq. 24', '`0 = λ1(H*) < λ1(H) ≤ λ2(H*) ≤ λ2(H) ≤ … ≤ λd(H*) ≤ λd(H)`'),
    CatalogueEntry('E25', 'Appendix A', 'eq. 25', '`x^T H* x = x^T H x − (x^T H u)^2/(u^T H u) ∈ [0, x^T H x]`'),
    CatalogueEntry('E26', 'Appendix A', 'eq. 26', '`x^T H* x = min_t ‖x − t u‖_H^2`'),
    CatalogueEntry('C-A.5', 'Appendix A', 'Cor. A.5, eq. 27', '`κ*(H*) = λd(H*)/λ2(H*) ≤ κ(H)`, equality iff `u ⊥ span{v1, vd}`'),
    CatalogueEntry('C-A.6', 'Appendix A', 'Cor. A.6', '`‖(I − εH*) x‖_{H*} ≤ ρ*(I − εH*) ‖x‖_{H*}` for all `x`, `ε`'),
    CatalogueEntry('C-A.7', 'Appendix A', 'Cor. A.7, eq. 28', '`ρ*(I − εH*) ≤ ρ(I − εH)` for `ε > 0`, strict if `u^T v_i ≠ 0` for `i = 1, d`; (27) and (28) strict for almost all `u`'),
    CatalogueEntry('L-A.10', 'Appendix A', 'Lemma A.10', '`0 < εa < 2` ⇒ `a_k` bounded for any `ε > 0` and initial value, `|a_k| ≤ |a0| + 2C/(1 − |1 − εa|)` with `C = sqrt(u^T H u)` `[garbled]`; and `a_k → ∞` for `εa > 2`, `a0 = 1`, `w0 = u`'),
    CatalogueEntry('E35-38', 'Appendix A', 'eq. 35–38', '`q_k := u^T H u − (w_k^T g)^2/σ_k^2 = ‖e_k‖_H^2 ≥ 0`; `q_{k+1} ≤ ρ(I − ε̂_k H)^2 q_k`'),
    CatalogueEntry('L-A.11', 'Appendix A', 'Lemma A.11, eq. 39', 'if `0 < ε⁻/‖w_k‖^2 ≤ ε̂_k ≤ ε⁺ < 2/λmax` for all large `k` `[garbled]`, the iteration converges to a minimizer'),
    CatalogueEntry('E40', 'Appendix A', 'eq. 40–41', '`‖w_{k+1}‖^2 = ‖w_k‖^2 + ε^2 (a_k^2/σ_k^2) ‖H e_k‖^2`'),
    CatalogueEntry('L-A.12', 'Appendix A', 'Lemma A.12', '`a0 w0^T g > 0`, `εa ∈ (0,1]`, `ε/‖w0‖^2 < ε0` (`ε0 := 1/(2 C_a κ λmax)` `[garbled]`, `|a_k| < C_a sqrt(u^T H u)`) ⇒ converges to a global minimizer; Remark 1 (`a0 = 0`); Remark 2 (`εa ∈ (1,2)` with an extra bound on `|a0|` `[garbled]`)'),
    CatalogueEntry('L-A.13', 'Appendix A', 'Lemma A.13', '`εa ∈ (0,1]`, `ε/‖w0‖^2 < ε0` ⇒ converges; if `a_k w_k^T g ≤ 0` for all `k`, to a saddle, with `|a_{k+1}| < r |a_k|`, `r ∈ (0,1)`'),
    CatalogueEntry('L-A.14', 'Appendix A', 'Lemma A.14', '`f_{k+1} ≤ r f_k + h_k`, `r ∈ (0,1)`, `h_k → 0` ⇒ `f_k → 0`'),
    CatalogueEntry('L-A.15', 'Appendix A', 'Lemma A.15', 'separation: `{w : y^2 q < δ0, ‖w‖ ≥ 1}` (`y = w^T g`) splits into two parts at positive distance'),
    CatalogueEntry('C-A.16', 'Appendix A', 'Cor. A.16', '`‖w_{k+1} − w_k‖ → 0` and `y_k^2 q_k → 0` ⇒ `y_k^2 → 0` or `q_k → 0`'),
    CatalogueEntry('L-A.18-20', 'Appendix A', 'Lemmas A.18–A.20', 'for `εa = ε ≥ 1`, initial values converging to saddles form a Lebesgue-null set; `det(I − ε∇²J(x)) ≠ 0` for almost all `x`; saddle Hessian has a negative eigenvalue'),
    CatalogueEntry('L-A.22', 'Appendix A', 'Lemma A.22, eq. 62', '`(1 − δ_k)‖e_{k+1}‖_H ≤ (ρ*(I − ε̂_k H*) + δ_k)‖e_k‖_H`, `δ_k := λmax ε |a_k| ‖e_k‖_H/σ_k^2` `[garbled]`'),
    CatalogueEntry('E70', 'Appendix A', 'eq. 70', 'with `ẽ_k := u − (a_k/σ_k) w_k`: `‖ẽ_k‖_H^2 = ‖e_k‖_H^2 + (a_k − w_k^T g/σ_k)^2`; the loss is `J_k = ½‖ẽ_k‖_H^2`'),
    CatalogueEntry('E71', 'Appendix A', 'eq. 71', '`|a_{k+1} − w_{k+1}^T g/σ_{k+1}| ≤ |1 − εa| |a_k − w_k^T g/σ_k| + C0 ‖e_k‖_H`'),
    CatalogueEntry('L-A.23', 'Appendix A', 'Lemma A.23', '`‖e_k‖_H ≤ Cρ^k`, `εa ∈ (0,1]` ⇒ `‖ẽ_k‖_H^2 ≤ C^2 ρ^{2k} + (C1 (1−εa)^k + C2 k γ^k)^2`, `γ = max(ρ, 1 − εa)`, `C1 = |a0 − w0^T g/σ0|`'),
    CatalogueEntry('E74-80', 'Appendix A', '§A.6', 'bounds on `ε̂_k` in terms of `ε/‖w_k‖^2`; `‖w1‖^2 − ‖w0‖^2 = C3 ε^2` (eq. 78)'),
    CatalogueEntry('E81', 'Appendix B: modified BNGD (MBNGD)', 'eq. 81', 'MBNGD: `w_{k+1} = w_k + ε (w_k^T g/σ_k^2)(g − (w_k^T g/σ_k^2) H w_k)` (BNGD with `a_k = w_k^T g/σ_k` enforced)'),
    CatalogueEntry('T-B.1', 'Appendix B: modified BNGD (MBNGD)', 'Thm. B.1, B.4', 'converges for any `w0`, any `ε > 0`; to a global minimizer unless `w_k^T g = 0` for some `k` (then to a saddle); converges to a global minimizer if `ε` is below a bound and `w0^T g ≠ 0` `[garbled]`'),
    CatalogueEntry('L-B.2', 'Appendix B: modified BNGD (MBNGD)', 'Lemma B.2', '`w0^T g ≠ 0`, `ε/‖w0‖^2 < ε0` `[garbled]` ⇒ global minimizer'),
    CatalogueEntry('L-B.3', 'Appendix B: modified BNGD (MBNGD)', 'Lemma B.3', 'if `w_k^T g ≠ 0` for all `k`: `Σ|w_k^T g| = Σ (w_k^T g)^2 = ∞`; and `0 < |y_k| < 2δ ⇒ |y_{k+1}| > |y_k|`'),
    CatalogueEntry('F5', 'Appendix B: modified BNGD (MBNGD)', 'Fig. 5', '`d = 5`, `H = diag(logspace(0, log10 2000, 5))`, 5000 steps, `u`, `w0` random on the unit sphere, 300 tests: effective step, loss, error; geometric mean more reliable than arithmetic mean; optimal MBNGD rate visibly better than GD'),
    CatalogueEntry('F6', 'Appendix B: modified BNGD (MBNGD)', 'Fig. 6', '`d = 100`, `H = diag(linspace(1, 2000, 100))`, 500 tests: optimal MBNGD rate not noticeably better than GD'),
    CatalogueEntry('F7', 'Appendix B: modified BNGD (MBNGD)', 'Fig. 7', '`H = diag(linspace(1, 2000, d))`: larger `d` gives a larger interval of near-optimal `ε`'),
    CatalogueEntry('F8', 'Appendix B: modified BNGD (MBNGD)', 'Fig. 8', '`H = diag(linspace(1, cond, 100))`: the condition number has little effect on that interval'),
)

IDS: tuple[str, ...] = tuple(e.id for e in CATALOGUE)
BY_ID: dict[str, CatalogueEntry] = {e.id: e for e in CATALOGUE}
