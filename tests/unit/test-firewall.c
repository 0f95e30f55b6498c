// SPDX-License-Identifier: MIT
/*
 * The kill-switch table against the real kernel, in a network namespace of its own (root; the
 * test skips with 77 otherwise): the generated rules load for every shape of spec (names with
 * = + . -, DNS of both families, LAN prefixes), the owner flag is there for on and not for
 * persistent, an owner table goes when its context goes, a crash's persistent table is
 * replaced in the same transaction, and remove_stale deletes only ours.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "firewall.h"
#include "harness.h"

/* The ruleset as nft prints it, in a static buffer. */
static const char *ruleset(void)
{
	static char out[65536];
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	out[0] = 0;
	if (nft_run_cmd_from_buffer(nft, "list ruleset") == 0)
		snprintf(out, sizeof(out), "%s", nft_ctx_get_output_buffer(nft));
	nft_ctx_free(nft);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void ip4(struct awg_ipaddr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	*a = (struct awg_ipaddr){ .family = AWG_FAMILY_INET, .addr = { x, y, z, w } };
}

static void names(void)
{
	char buf[64];

	awg_firewall_table_name(buf, sizeof(buf), "wg0", false);
	CHECK(!strcmp(buf, "awg_ks_wg0"));
	awg_firewall_table_name(buf, sizeof(buf), "a=b+c.d-e_f", true);
	CHECK(!strcmp(buf, "awg_ksp_a_3db_2bc_2ed_2de_5ff"));
}

static void owner_table(void)
{
	struct awg_ipaddr dns[2];
	struct awg_firewall_spec spec = { .ifname = "ks=1", .mode = AWG_KILL_SWITCH_ON,
					  .mark = 51820, .dns = dns, .n_dns = 2 };
	struct awg_firewall *fw = NULL;
	char why[256] = "";
	const char *r;

	ip4(&dns[0], 10, 9, 0, 1);
	dns[1] = (struct awg_ipaddr){ .family = AWG_FAMILY_INET6, .addr = { 0xfd, 0, [15] = 1 } };
	if (!CHECK_INT(awg_firewall_engage(&fw, &spec, why, sizeof(why)), 0))
		fprintf(stderr, "    nft: %s\n", why);
	r = ruleset();
	CHECK(strstr(r, "table inet awg_ks_ks_3d1") != NULL);
	CHECK(strstr(r, "flags owner") != NULL);
	CHECK(strstr(r, "oifname \"ks=1\" accept") != NULL);
	CHECK(strstr(r, "meta mark 0x0000ca6c accept") != NULL);
	CHECK(strstr(r, "ip daddr 10.9.0.1 accept") != NULL);
	CHECK(strstr(r, "ip6 daddr fd00::1 accept") != NULL);
	CHECK(strstr(r, "th dport 53 drop") != NULL);
	/* Loopback first, the DNS drop before the tunnel accept, drop last. */
	CHECK(strstr(r, "oif \"lo\" accept") < strstr(r, "th dport 53 drop"));
	CHECK(strstr(r, "th dport 53 drop") < strstr(r, "oifname \"ks=1\" accept"));
	CHECK_INT(count(r, "\t\tdrop\n"), 3);
	/* Gone with its context, as it goes with a dead process. */
	awg_firewall_abandon(fw);
	CHECK(strstr(ruleset(), "awg_ks_") == NULL);
}

static void lan_and_no_dns(void)
{
	struct awg_cidr lan[2] = {
		{ .family = AWG_FAMILY_INET, .cidr = 24, .addr = { 192, 168, 1, 0 } },
		{ .family = AWG_FAMILY_INET6, .cidr = 64, .addr = { 0xfd, 0x12, [15] = 0 } },
	};
	struct awg_firewall_spec spec = { .ifname = "ks2", .mode = AWG_KILL_SWITCH_ON,
					  .mark = 7, .allow_lan = true, .lan = lan, .n_lan = 2 };
	struct awg_firewall *fw = NULL;
	char why[256] = "";
	const char *r;

	if (!CHECK_INT(awg_firewall_engage(&fw, &spec, why, sizeof(why)), 0))
		fprintf(stderr, "    nft: %s\n", why);
	r = ruleset();
	CHECK(strstr(r, "ip daddr 192.168.1.0/24 accept") != NULL);
	CHECK(strstr(r, "fe80::/10") != NULL && strstr(r, "fd12::/64") != NULL);
	/* Without DNS = servers port 53 is not special (the Windows rule). */
	CHECK(strstr(r, "dport 53") == NULL);
	awg_firewall_release(fw);
	CHECK(strstr(ruleset(), "awg_ks_") == NULL);
}

static void persistent_replaced(void)
{
	struct awg_firewall_spec spec = { .ifname = "ks3", .mode = AWG_KILL_SWITCH_PERSISTENT,
					  .mark = 51820 };
	struct awg_firewall *fw = NULL;
	struct nft_ctx *other = nft_ctx_new(NFT_CTX_DEFAULT);
	char why[256] = "";
	const char *r;

	/* Someone else's table, which nothing here may touch. */
	nft_ctx_buffer_error(other);
	CHECK_INT(nft_run_cmd_from_buffer(other, "add table inet foreign"), 0);
	CHECK_INT(awg_firewall_engage(&fw, &spec, why, sizeof(why)), 0);
	r = ruleset();
	CHECK(strstr(r, "table inet awg_ksp_ks3") != NULL);
	CHECK(strstr(r, "flags owner") == NULL);
	/* The "crash": the table outlives its context. */
	awg_firewall_abandon(fw);
	CHECK(strstr(ruleset(), "table inet awg_ksp_ks3") != NULL);
	/* The next up (mode on) replaces it in one transaction. */
	spec.mode = AWG_KILL_SWITCH_ON;
	CHECK_INT(awg_firewall_engage(&fw, &spec, why, sizeof(why)), 0);
	r = ruleset();
	CHECK(strstr(r, "awg_ksp_ks3") == NULL);
	CHECK_INT(count(r, "table inet awg_ks"), 1);
	awg_firewall_release(fw);
	/* Persistent again, crash, then the explicit down. */
	spec.mode = AWG_KILL_SWITCH_PERSISTENT;
	CHECK_INT(awg_firewall_engage(&fw, &spec, why, sizeof(why)), 0);
	awg_firewall_abandon(fw);
	CHECK(!awg_firewall_remove_stale("ks4"));
	CHECK(awg_firewall_remove_stale("ks3"));
	CHECK(!awg_firewall_remove_stale("ks3"));
	r = ruleset();
	CHECK(strstr(r, "awg_ks") == NULL);
	CHECK(strstr(r, "table inet foreign") != NULL);
	nft_ctx_free(other);
}

static void setup(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("firewall: skipped (needs root for a network namespace)\n");
		exit(77);
	}
}

TEST_MAIN("firewall", T(setup), T(names), T(owner_table), T(lan_and_no_dns),
	  T(persistent_replaced))
