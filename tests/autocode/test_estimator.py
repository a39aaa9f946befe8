"""PassageClassifier as a scikit-learn estimator.

``sklearn.utils.estimator_checks`` checks that need no training data run as they are. The
checks that fit on generated numeric arrays (dtypes, NaN/inf, 1-D/2-D shapes, n_features_in_,
sample weights, ``classes_`` of a 1-D target …) do not apply: ``X`` is token lists and ``y``
label sets, which the estimator's tags declare (``check_estimator`` itself skips such an
estimator). The conventions those checks guard are tested below on text data instead.
"""
from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks as ec

from qualcode.autocode.estimator import PassageClassifier

API_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_estimator_tags_renamed,
    ec.check_valid_tag_types,
    ec.check_mixin_order,
    ec.check_no_attributes_set_in_init,
    ec.check_parameters_default_constructible,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_estimators_unfitted,  # raises NotFittedError before it looks at the (numeric) X
]


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_scikit_learn_api_checks(check):
    check("PassageClassifier", PassageClassifier())


def test_tags_say_the_input_is_text():
    from sklearn.utils import get_tags

    tags = get_tags(PassageClassifier())
    assert tags.estimator_type == "classifier" and tags.target_tags.required
    assert not tags.input_tags.two_d_array and tags.input_tags.string
    assert tags.classifier_tags.multi_label


POOLS = {
    "a": ["我们把楼里的住户叫到一起商量", "议事会上大家你一句我一句", "停车的事情开了三次协商会", "意见不一样就再商量"],
    "b": ["疫情那会儿小区封控了", "我们挨家挨户送物资", "做核酸排队排到晚上", "隔离的老人要送药"],
    None: ["我家孩子今年上初中", "早上去菜市场买菜", "这几天天气特别热", "周末带孙子去公园"],
}


def _texts(n: int = 60, seed: int = 1) -> tuple[list[list[str]], list[set[str]]]:
    """Token lists (one token per character, punctuation included) and their label sets."""
    rng = random.Random(seed)
    X, y = [], []
    for _ in range(n):
        label = rng.choice(["a", "b", None])
        text = "，".join(rng.sample(POOLS[label], 2) + rng.sample(POOLS[None], 1)) + "。"
        X.append(list(text))
        y.append({label} - {None})
    return X, y


@pytest.fixture(scope="module")
def data():
    return _texts()


def test_fit_keeps_parameters_and_sets_only_fitted_attributes(data):
    # check_estimators_overwrite_params and check_dont_overwrite_parameters, on text
    X, y = data
    est = PassageClassifier(C=0.5, char_ngrams=(1, 2), random_state=3)
    before = est.get_params()
    est.fit(X, y)
    assert est.get_params() == before and est.char_ngrams == (1, 2)
    added = set(vars(est)) - set(before)
    assert added and all(name.endswith("_") for name in added)


def test_fit_is_idempotent_and_predict_leaves_the_estimator_alone(data):
    # check_fit_idempotent and check_dict_unchanged, on text
    X, y = data
    est = PassageClassifier().fit(X, y)
    first = est.predict_proba(X)
    state = {k: v for k, v in vars(est).items() if not k.endswith("_")}
    classes = list(est.classes_)
    est.predict(X), est.predict_proba(X), est.transform(X), est.score(X, y)
    assert {k: v for k, v in vars(est).items() if not k.endswith("_")} == state and est.classes_ == classes
    assert np.array_equal(est.fit(X, y).predict_proba(X), first)
    assert np.array_equal(clone(est).fit(X, y).predict_proba(X), first)


def test_pickle_and_sample_order_and_subsets(data):
    # check_estimators_pickle, check_methods_sample_order_invariance and
    # check_methods_subset_invariance, on text
    X, y = data
    est = PassageClassifier().fit(X, y)
    proba = est.predict_proba(X)
    assert est.classes_ == ["a", "b"] and proba.shape == (len(X), 2)
    assert np.array_equal(pickle.loads(pickle.dumps(est)).predict_proba(X), proba)
    order = list(reversed(range(len(X))))
    assert np.allclose(est.predict_proba([X[i] for i in order]), proba[order])
    assert np.allclose(np.vstack([est.predict_proba([x]) for x in X[:10]]), proba[:10])


def test_score_is_subset_accuracy_over_label_sets(data):
    X, y = data
    est = PassageClassifier().fit(X, y)
    pred = est.predict(X)
    expected = np.mean([set(c for c, v in zip(est.classes_, row) if v) == labels for row, labels in zip(pred, y)])
    assert est.score(X, y) == pytest.approx(expected)
    assert est.score(X, y) > 0.9  # the pools are easy to tell apart
