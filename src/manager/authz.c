// SPDX-License-Identifier: MIT
/* Owns the authorisation decision: roles from uid and groups, the policy file, the method table. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authz.h"
#include "keyfile.h"

/* Who may call each method. Only this table decides; no handler checks a role on its own. */
enum who {
	ANYONE,		/* admins; operators (configs redacted for them) */
	ADMIN,		/* admins only */
};

static const struct {
	enum who who;
	bool redact;		/* operators get secrets removed */
	const char *verb;	/* "you are not allowed to <verb>" */
} table[AWG_MGR_METHODS] = {
	[AWG_MGR_STORED_CONFIG] = { ANYONE, true, "read configurations" },
	[AWG_MGR_RUNTIME_CONFIG] = { ANYONE, true, "read tunnel status" },
	[AWG_MGR_START] = { ANYONE, false, "start tunnels" },
	[AWG_MGR_STOP] = { ANYONE, false, "stop tunnels" },
	[AWG_MGR_WAIT_FOR_STOP] = { ANYONE, false, "wait for tunnels" },
	[AWG_MGR_DELETE] = { ADMIN, false, "delete tunnels" },
	[AWG_MGR_STATE] = { ANYONE, false, "read tunnel state" },
	[AWG_MGR_GLOBAL_STATE] = { ANYONE, false, "read tunnel state" },
	[AWG_MGR_CREATE] = { ADMIN, false, "create or change tunnels" },
	[AWG_MGR_TUNNELS] = { ANYONE, false, "list tunnels" },
	[AWG_MGR_QUIT] = { ADMIN, false, "stop the manager" },
	[AWG_MGR_UPDATE_STATE] = { ANYONE, false, "read the update state" },
	[AWG_MGR_UPDATE] = { ADMIN, false, "install updates" },
	[AWG_MGR_SUBSCRIBE] = { ANYONE, false, "receive notifications" },
	[AWG_MGR_LOG_FD] = { ANYONE, false, "read the log" },
	[AWG_MGR_ROLE] = { ANYONE, false, "ask for your role" },
};

static int policy_key(void *ctx, const char *key, const char *val, const char **why)
{
	struct awg_policy *p = ctx;
	bool *knob;

	if (!strcasecmp(key, "LimitedOperatorUI"))
		knob = &p->limited_operator_ui;
	else if (!strcasecmp(key, "DangerousScriptExecution"))
		knob = &p->dangerous_script_execution;
	else {
		*why = "unknown key";
		return -1;
	}
	if (strcmp(val, "0") && strcmp(val, "1")) {
		*why = "must be 0 or 1";
		return -1;
	}
	*knob = val[0] == '1';
	return 0;
}

int awg_policy_read(const char *path, struct awg_policy *p, char *why, size_t whylen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = awg_keyfile_read(path, policy_key, p, why, whylen);
	if (ret == -ENOENT)
		return 0;
	/* A malformed policy grants nothing. */
	if (ret < 0)
		memset(p, 0, sizeof(*p));
	return ret;
}

/* Whether the user (name, primary gid) belongs to group right now; false if it does not exist. */
static bool in_group(const char *user, gid_t primary, const char *group)
{
	struct group gr, *grp = NULL;
	char buf[16384];
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));

	if (getgrnam_r(group, &gr, buf, sizeof(buf), &grp) != 0 || !grp)
		return false;
	if (grp->gr_gid == primary)
		return true;
	/* A user in more than 256 groups is not looked at beyond them: refusing is safe. */
	getgrouplist(user, primary, groups, &n);
	for (int i = 0; i < n && i < (int)(sizeof(groups) / sizeof(groups[0])); i++)
		if (groups[i] == grp->gr_gid)
			return true;
	return false;
}

enum awg_mgr_role awg_authz_role(uid_t uid, const char *policy_path, char *why, size_t whylen)
{
	struct passwd pw, *pwp = NULL;
	struct awg_policy policy;
	char buf[16384], pwhy[256] = "";

	if (uid == 0)
		return AWG_MGR_ROLE_ADMIN;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp) {
		snprintf(why, whylen, "you are not allowed to use awg-manager (uid %u has no user "
			 "account)", (unsigned)uid);
		return AWG_MGR_ROLE_NONE;
	}
	if (in_group(pw.pw_name, pw.pw_gid, AWG_AUTHZ_ADMIN_GROUP))
		return AWG_MGR_ROLE_ADMIN;
	if (awg_policy_read(policy_path, &policy, pwhy, sizeof(pwhy)) == 0 &&
	    policy.limited_operator_ui &&
	    in_group(pw.pw_name, pw.pw_gid, AWG_AUTHZ_OPERATOR_GROUP))
		return AWG_MGR_ROLE_OPERATOR;
	snprintf(why, whylen, "you are not allowed to use awg-manager (user %s is not in group "
		 AWG_AUTHZ_ADMIN_GROUP "%s)", pw.pw_name,
		 policy.limited_operator_ui ? " or " AWG_AUTHZ_OPERATOR_GROUP :
		 ", and limited operators are off in the policy");
	return AWG_MGR_ROLE_NONE;
}

enum awg_authz_verdict awg_authz_check(enum awg_mgr_role role, unsigned method, char *why,
				       size_t whylen)
{
	if (method >= AWG_MGR_METHODS || role == AWG_MGR_ROLE_NONE) {
		snprintf(why, whylen, "you are not allowed to use awg-manager");
		return AWG_AUTHZ_DENY;
	}
	if (role == AWG_MGR_ROLE_ADMIN)
		return AWG_AUTHZ_ALLOW;
	if (table[method].who == ADMIN) {
		snprintf(why, whylen, "you are not allowed to %s (operator)", table[method].verb);
		return AWG_AUTHZ_DENY;
	}
	return table[method].redact ? AWG_AUTHZ_REDACT : AWG_AUTHZ_ALLOW;
}

bool awg_authz_event_allowed(enum awg_mgr_role role, unsigned event)
{
	if (role == AWG_MGR_ROLE_NONE)
		return false;
	return event != AWG_MGR_EV_UPDATE_PROGRESS || role == AWG_MGR_ROLE_ADMIN;
}
