/* cmd: the agent's subcommands, each a main of its own, and the exit codes
 * they share (README.md's exit-code table, column "agent run"). */
#ifndef AGENT_CMD_H
#define AGENT_CMD_H

enum {
    CMD_EXIT_OK = 0,          /* every request passed */
    CMD_EXIT_USAGE = 1,       /* usage or configuration error, or a run that could not run */
    CMD_EXIT_FAILED = 2,      /* some requests failed */
    CMD_EXIT_UNREACHABLE = 4, /* target unreachable: every request failed to connect */
};

/* agent run STRATEGY [OPTIONS]: argv[0] is "run". Returns the exit code. */
int cmd_run(int argc, char **argv);

#endif
