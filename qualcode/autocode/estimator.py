"""The estimator behind ``qualcode suggest``: TF-IDF features of a passage's tokens and a
calibrated one-vs-rest linear SVM (``PassageClassifier``, a scikit-learn classifier).

Features are TF-IDF weights of the stored jieba tokens and of character 2-3-grams within
clauses; inputs are token lists (script-folded by the caller). Every step is deterministic
for a given ``random_state``.

``sklearn.base`` is imported with this module (the estimator subclasses it); the rest of
scikit-learn and numpy are imported inside the methods. The command line imports this
module only inside the ``suggest`` commands: ``qualcode --help`` stays fast.

Saved models pickle this class and the feature callables by their module path:
``qualcode.autocode.suggest`` re-exports them so that models saved before they moved here
still load.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sklearn.base import BaseEstimator, ClassifierMixin

DEFAULT_THRESHOLD = 0.5
TOP_FEATURES = 5

# A token is a word feature unless it is only whitespace, punctuation or symbols.
_NOT_WORD = re.compile(r"^[\s\W_]+$", re.UNICODE)


# ---------------------------------------------------------------------------- features


def _word_tokens(tokens: Sequence[str]) -> list[str]:
    """Token features: the stored jieba tokens without whitespace and punctuation."""
    return [tok for tok in tokens if not _NOT_WORD.match(tok)]


def _clause_text(tokens: Sequence[str]) -> str:
    """Text for character n-grams: punctuation and whitespace become spaces, so that with
    ``char_wb`` no n-gram crosses a clause boundary."""
    return "".join(" " if _NOT_WORD.match(tok) else tok for tok in tokens)


def make_vectorizer(char_ngrams: tuple[int, int] = (2, 3)):
    """TF-IDF of word tokens and of character n-grams, on inputs that are token lists."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    # Module-level callables (not lambdas) keep the fitted model picklable.
    return FeatureUnion([
        ("token", TfidfVectorizer(analyzer=_word_tokens, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", preprocessor=_clause_text, ngram_range=tuple(char_ngrams),
                                  sublinear_tf=True, lowercase=False)),
    ])


# ---------------------------------------------------------------------------- estimator


class PassageClassifier(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear classifier with calibrated probabilities over passages.

    A scikit-learn estimator: ``__init__`` only stores parameters; ``fit(X, y)`` learns and
    returns ``self``; fitted attributes end in ``_``; ``get_params``/``set_params``/``repr``
    come from ``BaseEstimator`` (so ``sklearn.base.clone`` works). ``X`` is a sequence of
    token lists (the tokens tile the passage text: ``"".join(tokens)`` is the text); ``y`` a
    sequence of label collections (code paths), one per passage. The estimator tags say so
    (no 2-D numeric input), which is why ``check_estimator`` skips its data checks.

    A label is learned only when it has at least ``min_examples`` positive and as many
    negative passages; the others are recorded in ``skipped_`` as label → (positives,
    negatives). ``classes_`` lists the learned labels, sorted; ``predict_proba`` columns
    follow it.
    """

    def __init__(self, min_examples: int = 5, C: float = 1.0, char_ngrams: tuple[int, int] = (2, 3),
                 calibration: str = "sigmoid", calibration_folds: int = 3, random_state: int | None = 0):
        self.min_examples = min_examples
        self.C = C
        self.char_ngrams = char_ngrams
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is token lists, not a numeric matrix
        tags.input_tags.string = True
        tags.classifier_tags.multi_label = True  # y: a collection of labels per passage
        return tags

    def fit(self, X: Sequence[Sequence[str]], y: Sequence[Iterable[str]]) -> PassageClassifier:
        import numpy as np
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        X = [list(x) for x in X]
        labels = [set(ls) for ls in y]
        if len(X) != len(labels):
            raise ValueError(f"X has {len(X)} passages but y has {len(labels)} label sets")
        need = max(int(self.min_examples), int(self.calibration_folds))
        self.vectorizer_ = make_vectorizer(self.char_ngrams)
        M = self.vectorizer_.fit_transform(X)
        self.classes_: list[str] = []
        self.estimators_ = []
        self.skipped_: dict[str, tuple[int, int]] = {}
        coefs = []
        for label in sorted(set().union(*labels)) if labels else []:
            target = np.array([label in ls for ls in labels], dtype=int)
            pos = int(target.sum())
            neg = len(target) - pos
            if pos < need or neg < need:
                self.skipped_[label] = (pos, neg)
                continue
            # Unshuffled stratified folds and a seeded liblinear: the same data gives the same model.
            model = CalibratedClassifierCV(
                LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state),
                method=self.calibration, cv=StratifiedKFold(n_splits=self.calibration_folds),
            )
            model.fit(M, target)
            self.classes_.append(label)
            self.estimators_.append(model)
            coefs.append(np.mean([c.estimator.coef_[0] for c in model.calibrated_classifiers_], axis=0))
        self.coef_ = np.vstack(coefs) if coefs else np.zeros((0, M.shape[1]))
        self.feature_names_ = [_feature_label(n) for n in self.vectorizer_.get_feature_names_out()]
        self.min_count_ = need
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this PassageClassifier is not fitted yet; call fit first")

    def transform(self, X: Sequence[Sequence[str]]):
        """The TF-IDF feature matrix of ``X`` (sparse)."""
        self._check_fitted()
        return self.vectorizer_.transform([list(x) for x in X])

    def predict_proba(self, X: Sequence[Sequence[str]]):
        """Probabilities, shape (n_passages, len(classes_))."""
        return self._proba(self.transform(X))

    def _proba(self, M):
        import numpy as np

        if not self.estimators_:
            return np.zeros((M.shape[0], 0))
        return np.column_stack([m.predict_proba(M)[:, 1] for m in self.estimators_])

    def predict(self, X: Sequence[Sequence[str]], threshold: float = DEFAULT_THRESHOLD):
        """Indicator matrix (n_passages, len(classes_)): probability >= ``threshold``."""
        return (self.predict_proba(X) >= threshold).astype(int)

    def score(self, X: Sequence[Sequence[str]], y: Sequence[Iterable[str]], sample_weight=None) -> float:
        """Subset accuracy (as ``ClassifierMixin.score``) with ``y`` given like ``fit``'s: the
        share of passages whose predicted labels among ``classes_`` are exactly their true ones."""
        import numpy as np

        pred = self.predict(X)
        truth = np.array([[int(c in set(ls)) for c in self.classes_] for ls in y], dtype=int)
        correct = (pred == truth.reshape(pred.shape)).all(axis=1)
        return float(np.average(correct, weights=sample_weight))

    def top_features(self, M, row: int, class_index: int, k: int = TOP_FEATURES) -> list[dict]:
        """The ``k`` features of row ``row`` of ``M`` that push most towards the class."""
        x = M[row:row + 1].tocsr()
        weights = x.data * self.coef_[class_index, x.indices]
        order = sorted(range(len(weights)), key=lambda i: (-weights[i], x.indices[i]))
        out = []
        for i in order[:k]:
            if weights[i] <= 0:
                break
            kind, text = self.feature_names_[x.indices[i]]
            out.append({"feature": text, "kind": kind, "weight": round(float(weights[i]), 4)})
        return out


def _feature_label(name: str) -> tuple[str, str]:
    kind, _, text = name.partition("__")
    return kind, text
