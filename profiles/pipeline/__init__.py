"""The profile pipeline: pure pandas / scikit-learn functions, DataFrame in, DataFrame out, no ORM.

Steps (one module each): clean -> features (with `interactions`: contact features) -> rfm -> clv
(BG/NBD + Gamma-Gamma) -> churn -> clusters -> rules (next best offers) -> interests; `evaluation`
measures the forecast and the offers against naive baselines on a held-out quarter (the baseline is
served where it wins); `run` orchestrates them and `scoring` turns fitted models into profile rows.

Input column conventions (`frames.py` holds the schemas; optional columns may be absent):

- Customer ids are strings (UUID strings). Every frame has `customer_id`.
- Amounts are floats (the Django service converts Decimals; `clean_orders` also accepts Decimals).
- Timestamps are pandas datetime64[ns, UTC]; inputs may be naive (taken as UTC), tz-aware (converted)
  or ISO 8601 strings. Dates of birth are timestamps at midnight UTC. Values datetime64[ns] cannot
  hold (before 1677) become NaT and are dropped and counted by cleaning, never raised.
- `as_of` is an exclusive cutoff (`frames.as_of_cutoff`): a `datetime.date` D means all of D in
  `PipelineParams.timezone` (the server's TIME_ZONE in the product), an instant is its own cutoff.
  Days (transaction days, recency, tenure, T, age) are calendar days in that zone (`frames.local_days`).

  customers           customer_id; optional birth_date, gender, province, city, created_at
  orders (lines)      customer_id, order_id, ordered_at, amount; optional line_id, category,
                      quantity, channel
  events              customer_id, event_type, occurred_at; optional properties (dict or None; a
                      `search` event's query in properties["query"]), channel, idempotency_key
  interactions        customer_id, occurred_at; optional kind (call, email, visit, ...), channel,
                      direction (inbound, outbound, internal), outcome (complaint, ...)
  campaign_responses  customer_id, responded (bool); optional campaign_id, sent_at

An input that is None or a bare `pd.DataFrame()` counts as empty. Steps may hand customer_id back
as a categorical (ids shared across frames so that per-customer work is integer arithmetic); its
values are still the id strings.

Entry points: `run_pipeline` (fit + score everyone), or `fit_models` then `score_customers` per chunk
of customer ids, and `score_customer` to refresh one customer with the last run's pickled models.
Profile columns: the `customer_features` columns (the contact features of `interactions` among them),
r/f/m_score + rfm_segment, probability_alive,
expected_purchases_<n>d and expected_spend_<n>d (per forecast horizon), model_frequency,
model_recency_days, model_age_days (the BG/NBD inputs in days), expected_average_value, clv,
churn_probability + churn_status + churn_band + churn_factors (see `churn`), cluster + cluster_name,
top_categories, top_search_terms, next_best_offers (lists), offer_reasons (one dict per offer: category,
because, lift, confidence, source), preferred_channel, preferred_hour,
preferred_weekday (0 = Monday), age, age_band, gender, province, city, region.

The CLV function itself is `profiles.pipeline.clv.clv`; it is not re-exported here, where its name
would shadow the `clv` module.

Every function works on empty frames and on a single customer, and is vectorised for millions of
customers (no per-customer Python loop on a hot path).
"""

from .churn import ChurnModel, churn_training_frame, predict_churn, train_churn_model
from .clean import clean_events, clean_orders
from .clusters import ClusterInfo, ClusterModel, assign_clusters, cluster_customers, fit_clusters
from .clv import (
    BGNBDParams,
    GammaGammaParams,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)
from .features import customer_features
from .interests import preferred_channel, preferred_times, static_profile, top_categories, top_search_terms
from .rfm import RFM_SEGMENTS, fit_rfm_reference, rfm_scores
from .rules import association_rules, customer_categories, next_best_offers, offers_from_purchases
from .run import (
    FittedModels,
    PipelineInputs,
    PipelineOutputs,
    fit_models,
    run_pipeline,
    score_customer,
    score_customers,
)
from .scoring import PipelineModels, PipelineParams, segment_summary

__all__ = [
    "RFM_SEGMENTS",
    "BGNBDParams",
    "ChurnModel",
    "ClusterInfo",
    "ClusterModel",
    "FittedModels",
    "GammaGammaParams",
    "PipelineInputs",
    "PipelineModels",
    "PipelineOutputs",
    "PipelineParams",
    "assign_clusters",
    "association_rules",
    "churn_training_frame",
    "clean_events",
    "clean_orders",
    "cluster_customers",
    "customer_categories",
    "customer_features",
    "expected_average_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_clusters",
    "fit_models",
    "fit_gamma_gamma",
    "fit_rfm_reference",
    "next_best_offers",
    "offers_from_purchases",
    "predict_churn",
    "preferred_channel",
    "preferred_times",
    "probability_alive",
    "rfm_scores",
    "rfm_summary",
    "run_pipeline",
    "score_customer",
    "score_customers",
    "segment_summary",
    "static_profile",
    "top_categories",
    "top_search_terms",
    "train_churn_model",
]
