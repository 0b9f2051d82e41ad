// Package memorystorefake is an in-process Memorystore for Redis admin API
// (google.cloud.redis.v1.CloudRedis over gRPC) for tests and the demo. The
// real client library talks to it through ClientOptions.
package memorystorefake

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	redis "cloud.google.com/go/redis/apiv1"
	"cloud.google.com/go/redis/apiv1/redispb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Server serves a configurable set of instances on a loopback port.
type Server struct {
	redispb.UnimplementedCloudRedisServer

	lis  net.Listener
	grpc *grpc.Server

	mu        sync.Mutex
	instances map[string]*redispb.Instance
	fault     error
	calls     map[string]int
	closeOnce sync.Once
	done      chan struct{}
}

// Start listens on 127.0.0.1 with a random port. The server stops on Close
// or when ctx is done.
func Start(ctx context.Context) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memorystorefake: listen: %w", err)
	}
	s := &Server{
		lis:       lis,
		grpc:      grpc.NewServer(),
		instances: map[string]*redispb.Instance{},
		calls:     map[string]int{},
		done:      make(chan struct{}),
	}
	redispb.RegisterCloudRedisServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(lis) }()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// ClientOptions point the real client at this server, without credentials.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// NewClient returns a real CloudRedisClient talking to this server; the
// caller closes it.
func (s *Server) NewClient(ctx context.Context) (*redis.CloudRedisClient, error) {
	c, err := redis.NewCloudRedisClient(ctx, s.ClientOptions()...)
	if err != nil {
		return nil, fmt.Errorf("memorystorefake: new client: %w", err)
	}
	return c, nil
}

// Set adds or replaces an instance (keyed by inst.Name; a copy is stored).
func (s *Server) Set(inst *redispb.Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances[inst.GetName()] = proto.Clone(inst).(*redispb.Instance)
}

// SetState changes the state of a stored instance; it reports whether the
// instance exists.
func (s *Server) SetState(name string, state redispb.Instance_State) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.instances[name]
	if ok {
		inst.State = state
	}
	return ok
}

// Delete removes an instance; later lookups get NotFound.
func (s *Server) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.instances, name)
}

// SetFault makes every RPC fail with err (use status.Error for a gRPC code,
// e.g. codes.Unavailable); nil restores normal service.
func (s *Server) SetFault(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = err
}

// Calls returns how many times the named RPC ("GetInstance",
// "ListInstances") was served.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Close stops the server; it is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.grpc.Stop()
	})
}

// GetInstance implements the RPC with the real API's error codes.
func (s *Server) GetInstance(_ context.Context, req *redispb.GetInstanceRequest) (*redispb.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["GetInstance"]++
	if s.fault != nil {
		return nil, s.fault
	}
	if !validName(req.GetName()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid resource name %q", req.GetName())
	}
	inst, ok := s.instances[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetName())
	}
	return proto.Clone(inst).(*redispb.Instance), nil
}

// ListInstances returns every instance under the parent, sorted by name, in
// one page. Parent "projects/P/locations/-" lists all regions.
func (s *Server) ListInstances(_ context.Context, req *redispb.ListInstancesRequest) (*redispb.ListInstancesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["ListInstances"]++
	if s.fault != nil {
		return nil, s.fault
	}
	parent := req.GetParent()
	parts := strings.Split(parent, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "locations" || parts[1] == "" || parts[3] == "" {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", parent)
	}
	resp := &redispb.ListInstancesResponse{}
	for name, inst := range s.instances {
		if !validName(name) {
			continue
		}
		p := strings.Split(name, "/")
		if p[1] != parts[1] || (parts[3] != "-" && p[3] != parts[3]) {
			continue
		}
		resp.Instances = append(resp.Instances, proto.Clone(inst).(*redispb.Instance))
	}
	slices.SortFunc(resp.Instances, func(a, b *redispb.Instance) int { return strings.Compare(a.GetName(), b.GetName()) })
	return resp, nil
}

func validName(name string) bool {
	p := strings.Split(name, "/")
	return len(p) == 6 && p[0] == "projects" && p[2] == "locations" && p[4] == "instances" &&
		p[1] != "" && p[3] != "" && p[5] != ""
}
