// Command dnsfailover is the operator's CLI.
//
//	dnsfailover failover --record R --target T --mode planned --reason "..." [--wait 10m]
//	dnsfailover status   [--record R]
//	dnsfailover plan     --record R --target T --mode emergency
//
// failover publishes a validated manual request to the requests topic (the
// function is the only writer of the record) and can wait for its result on
// the results topic. status and plan read the zone and probe the targets
// directly and change nothing. Configuration comes from --config or
// DNSFAILOVER_CONFIG, as the functions read it; emulator endpoints from the
// same environment variables (DNSFAILOVER_DNS_ENDPOINT, PUBSUB_EMULATOR_HOST, ...).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dnsfailover:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage: dnsfailover <command> [flags]

commands:
  failover  publish a manual failover request (validated first) and optionally wait for its result
  status    show each record's address, TTL, state record and the health of its candidate targets
  plan      dry run: the plan and every check's result for a failover, changing nothing

run 'dnsfailover <command> -h' for a command's flags`

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(out, usage)
		if len(args) == 0 {
			return usageError{"no command"}
		}
		return nil
	}
	switch args[0] {
	case "failover":
		return cmdFailover(ctx, args[1:], out, errOut)
	case "status":
		return cmdStatus(ctx, args[1:], out, errOut)
	case "plan":
		return cmdPlan(ctx, args[1:], out, errOut)
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}
