# Scale (issue 22): scripts/bench.py on the lab's `large` topology, docs/performance.md. Not part of
# make test or make test-e2e: a series runs for hours and takes the machine.
#   make bench                            for each N of the series: lab up large --workers N+1 (instance
#                                         bench), site.yml, site.yml again, scale.yml, remove_node.yml,
#                                         memory; lab down. Default series 1 5 10 20 30 40 50 ... up to
#                                         the largest N this machine holds (memory and disk)
#   make bench BENCH_WORKERS="1 5 10"     these N only
#   make bench-plan                       the series and where it stops and why; runs nothing
#   make bench-plot                       redraw bench.png and print the fits from bench.json
#   make bench-floor                      site.yml against the unavoidable floor (issue 22 part 3): lab up
#                                         large --workers 1 (instance floor), the raw steps over SSH timed;
#                                         lab down and up, site.yml timed; lab down. results/floor.json
# Results: $(QUORUM_LAB_HOME)/results/bench.json and bench.png; logs in results/bench-work/N<N>/.
BENCH_WORKERS ?=
BENCH := $(VENV)/bin/python scripts/bench.py

.PHONY: bench bench-plan bench-plot bench-floor

bench: venv artifacts
	$(BENCH) $(if $(strip $(BENCH_WORKERS)),--workers "$(BENCH_WORKERS)")

bench-plan: venv
	$(BENCH) --plan $(if $(strip $(BENCH_WORKERS)),--workers "$(BENCH_WORKERS)")

bench-plot: venv
	$(BENCH) --plot-only

bench-floor: venv artifacts
	$(VENV)/bin/python scripts/floor.py
