# ctl/: the manual pages (scdoc sources), the bash completion and the systemd unit. Included by
# the top Makefile. `make man` builds the pages into $(BUILD)/man/; `make install` installs them
# with fwdctl.

SCDOC     ?= scdoc
MAN_PAGES := $(BUILD)/man/fwdctl.8 $(BUILD)/man/topology.conf.5 $(BUILD)/man/fwd-cni.8
MAN_DIR   := $(DESTDIR)$(PREFIX)/share/man
BASH_COMPLETION_DIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
# systemd reads units from $(PREFIX)/lib/systemd/system for PREFIX /usr/local and /usr.
SYSTEMD_UNIT_DIR := $(DESTDIR)$(PREFIX)/lib/systemd/system

.PHONY: man install-docs uninstall-docs

man: $(MAN_PAGES)

$(BUILD)/man/%: ctl/%.scd
	@mkdir -p $(@D)
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

install-docs: $(MAN_PAGES)
	install -D -m 0644 $(BUILD)/man/fwdctl.8 $(MAN_DIR)/man8/fwdctl.8
	install -D -m 0644 $(BUILD)/man/topology.conf.5 $(MAN_DIR)/man5/topology.conf.5
	install -D -m 0644 $(BUILD)/man/fwd-cni.8 $(MAN_DIR)/man8/fwd-cni.8
	install -D -m 0644 ctl/fwdctl.bash-completion $(BASH_COMPLETION_DIR)/fwdctl
	@mkdir -p $(SYSTEMD_UNIT_DIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' ctl/fwd@.service.in > $(SYSTEMD_UNIT_DIR)/fwd@.service

uninstall-docs:
	rm -f $(MAN_DIR)/man8/fwdctl.8 $(MAN_DIR)/man5/topology.conf.5 $(MAN_DIR)/man8/fwd-cni.8 \
		$(BASH_COMPLETION_DIR)/fwdctl \
		$(SYSTEMD_UNIT_DIR)/fwd@.service
