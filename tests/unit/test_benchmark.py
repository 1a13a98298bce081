"""pipeline.deploy.benchmark's pure helpers (the served figures need servers: `make bench`)."""

from pipeline.deploy.benchmark import histogram_totals, median_run

METRICS = """# HELP intent_batch_requests Torchserve prometheus histogram metric with unit: count
# TYPE intent_batch_requests histogram
intent_batch_requests_bucket{ModelName="m",ModelVersion="1",Hostname="vm",le="1.0",} 3.0
intent_batch_requests_count{ModelName="m",ModelVersion="1",Hostname="vm",} 5.0
intent_batch_requests_sum{ModelName="m",ModelVersion="1",Hostname="vm",} 8.0
intent_batch_requests_count{ModelName="m",ModelVersion="2",Hostname="vm",} 1.0
intent_batch_requests_sum{ModelName="m",ModelVersion="2",Hostname="vm",} 2.0
intent_batch_requests_total_sum{ModelName="m",} 99.0
"""


def test_histogram_totals_sum_every_label_set():
    assert histogram_totals(METRICS, "intent_batch_requests") == (10.0, 6.0)


def test_histogram_totals_of_an_absent_metric_are_zero():
    assert histogram_totals(METRICS, "intent_confidence") == (0.0, 0.0)


def test_median_run_takes_the_middle_by_key():
    runs = [{"p": 3}, {"p": 1}, {"p": 2}]
    assert median_run(runs, lambda r: r["p"]) == {"p": 2}
    assert median_run([{"p": 1}, {"p": 2}], lambda r: r["p"]) == {"p": 2}  # the upper of an even count
