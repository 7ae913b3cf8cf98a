// Rootless support: the user namespace every rootless helper joins, and the roles that hold it
// and work inside it.
#pragma once
#include "plan.hh"

namespace ctr {

// Joins the user namespace the plan names ("userns <pid of its holder>"), if any. Called first
// by every role, so the namespaces a role creates afterwards are owned by that user namespace.
void JoinUserNamespace(const Plan& plan);

// True once JoinUserNamespace joined one: the host's other namespaces are out of reach then.
bool InJoinedUserNamespace();

}  // namespace ctr
