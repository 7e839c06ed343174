// Command certs makes a throwaway CA and certificates for a local cluster
// and its clients (README, Security): go run ./scripts/certs -dir tls.
// For testing only; production certificates come from your own CA.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kvorum/kvorum/internal/certs"
)

func main() {
	dir := flag.String("dir", "tls", "directory to write ca.crt, <name>.crt and <name>.key into")
	hosts := flag.String("hosts", "127.0.0.1,::1,localhost", "comma-separated IPs and names the certificates are valid for")
	names := flag.String("names", "node,client", "comma-separated certificate names")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
	ca, err := certs.NewCA("kvorum throwaway CA")
	if err == nil {
		var paths map[string][2]string
		paths, err = ca.WriteFiles(*dir, strings.Split(*hosts, ","), strings.Split(*names, ",")...)
		for n, p := range paths {
			fmt.Println(n, strings.TrimSpace(p[0]+" "+p[1]))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
}
