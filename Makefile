.PHONY: bench image

# One kvorum node against redis-server AOF always: see bench/compare.sh.
bench:
	bash bench/compare.sh

# Static binaries in build/ and the FROM-scratch image kvorum:dev (IMAGE=name:tag
# to change it): see docs/docker.md.
image:
	scripts/image.sh
