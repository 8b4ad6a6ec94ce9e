// Command gencerts writes test certificates with tlstest for scripts:
//
//	go run ./security/tlsconf/tlstest/gencerts -dir D -clients alice,bob -password secret
//
// It prints the files written, one "name=path" per line.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

func main() {
	dir := flag.String("dir", "", "directory to write into (required)")
	clients := flag.String("clients", "", "comma-separated client common names")
	hosts := flag.String("hosts", "", "comma-separated extra server host names or IPs")
	password := flag.String("password", "secret", "password of the PKCS#12 files")
	prefix := flag.String("prefix", "", "prefix for every file name")
	days := flag.Int("days", 365, "validity of server and client certificates in days")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "gencerts: -dir is required")
		flag.Usage()
		os.Exit(2)
	}
	f, err := tlstest.Generate(*dir, tlstest.Options{
		Hosts:    split(*hosts),
		Clients:  split(*clients),
		Password: *password,
		NotAfter: time.Now().AddDate(0, 0, *days),
		Prefix:   *prefix,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
	fmt.Printf("ca=%s\nca-key=%s\nserver-cert=%s\nserver-key=%s\nserver-p12=%s\ntruststore=%s\n",
		f.CA, f.CAKey, f.ServerCert, f.ServerKey, f.ServerP12, f.Truststore)
	for _, c := range split(*clients) {
		cert, key, p12 := f.Client(c)
		fmt.Printf("client-%s-cert=%s\nclient-%s-key=%s\nclient-%s-p12=%s\n", c, cert, c, key, c, p12)
	}
}

// split parses a comma-separated list, dropping empty items.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
