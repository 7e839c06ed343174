.PHONY: bench

# One kvorum node against redis-server AOF always: see bench/compare.sh.
bench:
	bash bench/compare.sh
