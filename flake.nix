{
  # flyte-pod-webhook as a Nix flake:
  #   nix build            the CLI (packages.default)        nix run . -- serve --config config.yaml
  #   nix build .#image    an OCI image (dockerTools)        docker load < result
  #   nix develop          Node 24, Go (for the end-to-end suite's API server), kubectl
  # The npm dependencies are built from package-lock.json by nixpkgs' importNpmLock: each package is fetched
  # with the integrity hash the lock already records, so no dependency hash is kept by hand in this file.
  description = "flyte-pod-webhook: Kubernetes mutating admission webhook that injects secrets into Pods";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      packageJson = builtins.fromJSON (builtins.readFile ./package.json);

      cliFor = pkgs:
        let
          inherit (pkgs) lib;
          nodejs = pkgs.nodejs_24;
        in
        pkgs.stdenvNoCC.mkDerivation {
          pname = packageJson.name;
          inherit (packageJson) version;
          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [ ./package.json ./package-lock.json ./bin ./src ];
          };
          # importNpmLock: every package of package-lock.json as a fetchurl of its recorded `resolved` URL and
          # `integrity` hash; its npmConfigHook (run after the configure phase) installs them offline.
          # --omit=dev: production dependencies only. Dev packages are fetched (they are in the lock) but never
          # installed, so the `node` devDependency's install script, which downloads a binary, never runs.
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          npmFlags = [ "--omit=dev" ];
          nativeBuildInputs = [ nodejs pkgs.importNpmLock.npmConfigHook pkgs.makeWrapper ];
          dontBuild = true;
          # Node 24 runs the TypeScript sources directly (type stripping) and refuses to do so under
          # node_modules/, so the app goes to lib/flyte-pod-webhook, not to lib/node_modules/<name> where
          # buildNpmPackage's install hook would put it. The hook left the original package.json in
          # .package.json.orig (the working copy points at store paths).
          installPhase = ''
            runHook preInstall
            app=$out/lib/flyte-pod-webhook
            mkdir -p $app $out/bin
            cp .package.json.orig $app/package.json
            cp -r bin src node_modules $app/
            makeWrapper ${nodejs}/bin/node $out/bin/flyte-pod-webhook \
              --add-flags $app/bin/flyte-pod-webhook.js \
              --set-default NODE_ENV production \
              --set-default NODE_OPTIONS "--max-semi-space-size=8 --max-old-space-size=256"
            runHook postInstall
          '';
          passthru = { inherit nodejs; };
          meta = {
            description = packageJson.description;
            license = lib.licenses.asl20;
            mainProgram = "flyte-pod-webhook";
            platforms = lib.platforms.unix;
          };
        };

      # The same image as the Dockerfile: uid 65532, the CLI as entrypoint, `serve` as the default command.
      # No shell and no package manager in it; node runs the app directly (no wrapper script).
      imageFor = pkgs: cli:
        pkgs.dockerTools.buildLayeredImage {
          name = "flyte-pod-webhook";
          tag = packageJson.version;
          contents = [ pkgs.cacert ];
          extraCommands = "mkdir -p tmp && chmod 1777 tmp";
          config = {
            Entrypoint = [ "${cli.nodejs}/bin/node" "${cli}/lib/flyte-pod-webhook/bin/flyte-pod-webhook.js" ];
            Cmd = [ "serve" "--config" "/etc/flyte/config/config.yaml" ];
            User = "65532:65532";
            WorkingDir = "${cli}/lib/flyte-pod-webhook";
            Env = [ "NODE_ENV=production" "NODE_OPTIONS=--max-semi-space-size=8 --max-old-space-size=256" "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" ];
            ExposedPorts = { "9443/tcp" = { }; "10254/tcp" = { }; };
          };
        };
    in
    {
      packages = forAllSystems (pkgs:
        let cli = cliFor pkgs; in
        { default = cli; flyte-pod-webhook = cli; }
        // nixpkgs.lib.optionalAttrs pkgs.stdenv.isLinux { image = imageFor pkgs cli; });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/flyte-pod-webhook";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs_24 pkgs.go pkgs.kubectl pkgs.openssl ];
        };
      });
    };
}
