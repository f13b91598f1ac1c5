# Not nixpkgs: a stand-in with just the attributes the repository's flake.nix uses, so test/deploy/image.test.ts
# can evaluate the flake's outputs offline (nix eval --override-input nixpkgs path:test/deploy/nix-stub).
{
  outputs = { self }:
    let
      drv = name: attrs: attrs // { type = "derivation"; name = name; outPath = "/nix/store/00000000000000000000000000000000-${name}"; drvPath = "/nix/store/00000000000000000000000000000000-${name}.drv"; };
      lib = {
        genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
        optionalAttrs = c: a: if c then a else { };
        fileset = { toSource = { root, fileset }: builtins.seq fileset root; unions = l: builtins.seq (builtins.length l) l; };
        licenses.asl20 = "asl20";
        platforms.unix = [ "unix" ];
      };
      pkgsFor = system: rec {
        inherit lib;
        stdenv = { isLinux = builtins.match ".*-linux" system != null; hostPlatform.system = system; };
        stdenvNoCC = { mkDerivation = a: drv "${a.pname}-${a.version}" (a // (a.passthru or { })); };
        nodejs_24 = drv "nodejs-24" { };
        go = drv "go" { }; kubectl = drv "kubectl" { }; openssl = drv "openssl" { }; cacert = drv "cacert" { };
        makeWrapper = drv "make-wrapper" { };
        importNpmLock = { npmConfigHook = drv "npm-config-hook" { }; __functor = _: { npmRoot }: builtins.seq (builtins.readFile (npmRoot + "/package-lock.json")) (drv "npm-deps" { }); };
        dockerTools.buildLayeredImage = a: drv "image-${a.name}" a;
        mkShell = a: drv "shell" a;
      };
    in
    { inherit lib; legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] pkgsFor; };
}
