// Package sentinel follows Redis Sentinel's view of who the master is:
// +switch-master events on each Sentinel's pub/sub, and a poll of SENTINEL
// GET-MASTER-ADDR-BY-NAME on all of them to catch missed events, believed
// only when a majority of the configured Sentinels agree.
package sentinel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Master is who Sentinel says the master is.
type Master struct {
	Name  string
	Addr  netip.AddrPort
	Epoch int64  // config-epoch: grows with every failover
	Via   string // the Sentinel(s) that said so
	Event bool   // from a +switch-master event (else from the poll)
}

// RequestID names the switch: master, new address and epoch, so that every
// replica and every repeat computes the same id.
func (m Master) RequestID() string {
	name := safeRe.ReplaceAllString(m.Name, "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("sentinel:%s:%s:%d:%d", name, m.Addr.Addr(), m.Addr.Port(), m.Epoch)
}

var safeRe = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// Watcher reports the master of one monitored set.
type Watcher struct {
	MasterName string
	Addrs      []string // Sentinels, host:port
	Password   string
	Poll       time.Duration
	Timeout    time.Duration // per command (default 1s)
	Logger     *slog.Logger
	// OnMaster is called for every +switch-master event and every poll on
	// which a majority agrees. It is called from one goroutine at a time.
	OnMaster func(ctx context.Context, m Master)

	mu sync.Mutex
}

func (w *Watcher) client(addr string) *goredis.SentinelClient {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	return goredis.NewSentinelClient(&goredis.Options{
		Addr: addr, Password: w.Password, Protocol: 2,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		MaxRetries: -1, PoolSize: 2, DisableIdentity: true,
	})
}

func (w *Watcher) emit(ctx context.Context, m Master) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.OnMaster(ctx, m)
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	if w.MasterName == "" || len(w.Addrs) == 0 || w.OnMaster == nil {
		return errors.New("sentinel watcher: MasterName, Addrs and OnMaster are required")
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
	if w.Poll <= 0 {
		w.Poll = 2 * time.Second
	}
	clients := make([]*goredis.SentinelClient, len(w.Addrs))
	for i, a := range w.Addrs {
		clients[i] = w.client(a)
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.subscribe(ctx, w.Addrs[i], clients[i])
		}()
	}
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		if m, err := w.PollOnce(ctx, clients); err != nil {
			w.Logger.Warn("sentinel poll", "master", w.MasterName, "err", err)
		} else {
			w.emit(ctx, m)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// subscribe listens for +switch-master on one Sentinel; go-redis reconnects
// the subscription by itself after a lost connection.
func (w *Watcher) subscribe(ctx context.Context, addr string, c *goredis.SentinelClient) {
	for ctx.Err() == nil {
		ps := c.Subscribe(ctx, "+switch-master")
		ch := ps.Channel(goredis.WithChannelHealthCheckInterval(5 * time.Second))
		for msg := range chanUntil(ctx, ch) {
			m, ok := parseSwitch(msg.Payload, w.MasterName)
			if !ok {
				continue
			}
			m.Via = addr
			m.Epoch = w.epoch(ctx, c)
			w.Logger.Info("sentinel +switch-master", "master", m.Name, "addr", m.Addr.String(), "epoch", m.Epoch, "sentinel", addr)
			w.emit(ctx, m)
		}
		_ = ps.Close()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func chanUntil(ctx context.Context, ch <-chan *goredis.Message) <-chan *goredis.Message {
	out := make(chan *goredis.Message)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// parseSwitch reads "<name> <old-ip> <old-port> <new-ip> <new-port>".
func parseSwitch(payload, name string) (Master, bool) {
	f := strings.Fields(payload)
	if len(f) != 5 || f[0] != name {
		return Master{}, false
	}
	ap, err := addrPort(f[3], f[4])
	if err != nil {
		return Master{}, false
	}
	return Master{Name: name, Addr: ap, Event: true}, true
}

func addrPort(host, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("sentinel reported %q, not an IP (hostnames are not followed: set announce-ip)", host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("sentinel reported port %q", port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

func (w *Watcher) epoch(ctx context.Context, c *goredis.SentinelClient) int64 {
	info, err := c.Master(ctx, w.MasterName).Result()
	if err != nil {
		return 0
	}
	e, _ := strconv.ParseInt(info["config-epoch"], 10, 64)
	return e
}

// PollOnce asks every Sentinel and returns the master a majority of the
// configured Sentinels agree on, with the highest epoch among them.
func (w *Watcher) PollOnce(ctx context.Context, clients []*goredis.SentinelClient) (Master, error) {
	type answer struct {
		addr  netip.AddrPort
		epoch int64
		via   string
		err   error
	}
	answers := make([]answer, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &answers[i]
			a.via = w.Addrs[i]
			hp, err := c.GetMasterAddrByName(ctx, w.MasterName).Result()
			if err != nil {
				a.err = fmt.Errorf("%s: %w", w.Addrs[i], err)
				return
			}
			if len(hp) != 2 {
				a.err = fmt.Errorf("%s: GET-MASTER-ADDR-BY-NAME answered %v", w.Addrs[i], hp)
				return
			}
			if a.addr, err = addrPort(hp[0], hp[1]); err != nil {
				a.err = fmt.Errorf("%s: %w", w.Addrs[i], err)
				return
			}
			a.epoch = w.epoch(ctx, c)
		}()
	}
	wg.Wait()
	votes := map[netip.AddrPort][]answer{}
	var errs []error
	for _, a := range answers {
		if a.err != nil {
			errs = append(errs, a.err)
			continue
		}
		votes[a.addr] = append(votes[a.addr], a)
	}
	need := len(clients)/2 + 1
	for addr, as := range votes {
		if len(as) < need {
			continue
		}
		m := Master{Name: w.MasterName, Addr: addr}
		var via []string
		for _, a := range as {
			m.Epoch = max(m.Epoch, a.epoch)
			via = append(via, a.via)
		}
		m.Via = strings.Join(via, ",")
		return m, nil
	}
	var seen []string
	for addr, as := range votes {
		seen = append(seen, fmt.Sprintf("%s x%d", addr, len(as)))
	}
	err := fmt.Errorf("no majority (%d) of %d Sentinels agree on the master of %s (answers: %s)",
		need, len(clients), w.MasterName, strings.Join(seen, ", "))
	if len(errs) > 0 {
		err = fmt.Errorf("%w: %w", err, errors.Join(errs...))
	}
	return Master{}, err
}
