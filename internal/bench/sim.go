package bench

import (
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// simPassword is the API user's password on every simulated unit of the measurements.
const simPassword = "Bench-Pa55word"

// Sim is a simulated UCM (internal/ucm/ucmsim) on loopback, seeded with extensions.
type Sim struct {
	*ucmsim.UCM
	srv *ucmsim.Server
}

// NewSim starts a simulator.
func NewSim() (*Sim, error) {
	u := ucmsim.New(ucmsim.Config{Username: "api", Password: simPassword, Seed: true})
	srv, err := ucmsim.Listen(u, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &Sim{UCM: u, srv: srv}, nil
}

// Unit is the simulator as a configured unit with the given id.
func (s *Sim) Unit(id string) Unit {
	return Unit{ID: id, URL: s.srv.URL(), CertSHA256: s.srv.CertSHA256(), Username: "api", Password: simPassword}
}

// URL is the simulator's base URL.
func (s *Sim) URL() string { return s.srv.URL() }

// Close stops it.
func (s *Sim) Close() { _ = s.srv.Close() }

// simStack starts a simulator and the whole gateway in front of it as the unit "sim"; stop
// ends both.
func simStack(o StackOptions) (sim *Sim, st *Stack, stop func(), err error) {
	if sim, err = NewSim(); err != nil {
		return nil, nil, nil, err
	}
	if st, err = NewStack([]Unit{sim.Unit("sim")}, o, true); err != nil {
		sim.Close()
		return nil, nil, nil, err
	}
	return sim, st, func() { st.Close(); sim.Close() }, nil
}
