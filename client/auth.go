package client

import (
	"context"
	"crypto/sha512"
	"fmt"
	"strings"

	"github.com/xdg-go/scram"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// authenticate runs a SASL exchange on a new connection with the client's
// credentials.
func (cn *conn) authenticate(ctx context.Context) error {
	o := &cn.cl.opts
	mech := strings.ToUpper(o.Mechanism)
	if mech == "" {
		mech = "SCRAM-SHA-256"
	}
	var step func(challenge []byte) ([]byte, error)
	switch mech {
	case "PLAIN":
		step = func([]byte) ([]byte, error) { return []byte("\x00" + o.User + "\x00" + o.Password), nil }
	case "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-384", "SCRAM-SHA-512":
		gen := map[string]scram.HashGeneratorFcn{"SCRAM-SHA-1": scram.SHA1, "SCRAM-SHA-256": scram.SHA256,
			"SCRAM-SHA-384": sha512.New384, "SCRAM-SHA-512": scram.SHA512}[mech]
		sc, serr := gen.NewClient(o.User, o.Password, "")
		if serr != nil {
			return fmt.Errorf("hotrod: %s: %w", mech, serr)
		}
		conv := sc.NewConversation()
		step = func(ch []byte) ([]byte, error) {
			out, err := conv.Step(string(ch))
			return []byte(out), err
		}
	default:
		return fmt.Errorf("hotrod: SASL mechanism %s is not supported by this client", mech)
	}
	name := mech
	var challenge []byte
	for range 8 {
		resp, serr := step(challenge)
		if serr != nil {
			return fmt.Errorf("hotrod: %s: %w", mech, serr)
		}
		h := reqHeader{op: wire.OpAuth}
		c, err := cn.doOp(ctx, &h, func(b []byte) []byte {
			b = wire.AppendString(b, name)
			return wire.AppendBytes(b, resp)
		})
		if err != nil {
			return fmt.Errorf("hotrod: authentication: %w", err)
		}
		d := wire.Decoder{Buf: c.body}
		completed, _ := d.Byte()
		ch, _ := d.Bytes("challenge")
		challenge = append([]byte(nil), ch...)
		release(c)
		name = ""
		if completed == 1 {
			return nil
		}
		if strings.HasPrefix(string(challenge), "v=") { // SCRAM server-final
			_, err := step(challenge)
			return err
		}
	}
	return fmt.Errorf("hotrod: %s: the exchange did not end", mech)
}
