"""Evaluation: a patient's records normalised as of a date (``facts``), each rule kind's meaning
(``leaves``), what skipped records leave undecided (``coverage``), the engines that decide rule
leaves (``engines``: the ``Engine`` contract, python, durable), a catalog's distinct leaves, nodes
and criteria laid out once for deciding verdicts (``plan``), and criteria, verdicts and ranking
(``evaluate``) as results (``results``); ``batch`` is the contract of engines that decide whole
panels (an outcome matrix, explanations on demand)."""
