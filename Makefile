# The README's quick start. Each target first installs the Debian packages the package links
# (as root, or through sudo), then runs.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
PACKAGES := libopenblas-dev libpng-dev libjpeg62-turbo-dev

.PHONY: demo test examples dependencies

## demo: generate demo.png from the default (trained) model, the example control image and reference.
demo: dependencies
	$(SWIFT) run -c release diffuse generate --prompt "a blue circle above a yellow star" \
		--control-image Examples/images/control.png --reference Examples/images/style.png \
		--width 64 --height 64 --steps 20 --seed 44 -o demo.png
	@echo "wrote demo.png"

## test: what CI runs.
test: dependencies
	$(SWIFT) test -c release

## examples: build and run Docs/USAGE.md's Swift examples as another package would.
examples: dependencies
	cd Examples/LibraryUsage && $(SWIFT) run -c release

dependencies:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
