"""A small DNS fleet, written as an operator would, for the bind9 unit tests."""

INVENTORY = """
    groups:
      dns:
        children: [primary, secondary]
        vars:
          bind9:
            zones:
              lab.test:
                hosts: true
                mesh: mesh
                records:
                  - {name: "@", type: MX, value: 10 mail1}
                  - {name: www, type: CNAME, value: web1}
                  - {name: web1, type: A, value: 198.18.0.99}
              example.com:
                records:
                  - {name: "@", type: TXT, value: "v=spf1 -all"}
            reverse:
              198.18.0.0/24: {domain: lab.test}
      primary:
        roles: [bind9]
        vars: {bind9: {server: primary}}
      secondary:
        roles: [bind9]
        vars: {bind9: {server: secondary}}
      mesh:
        roles: [wireguard]
        vars: {wireguard: {network: 100.64.0.0/24}}
    hosts:
      ns1: {address: 198.18.0.31, groups: [primary, mesh], vars: {wireguard: {address: 100.64.0.31}}}
      ns2: {address: 198.18.0.32, groups: [secondary]}
      ns3: {address: 198.18.0.33, groups: [secondary]}
      web1: {address: 198.18.0.11, groups: [mesh], vars: {wireguard: {address: 100.64.0.11}}}
      mail1: {address: 198.18.0.41}
"""
