//! The Docker Engine API client that the whole run shares.
//!
//! The engine is found as the docker CLI finds it: `DOCKER_HOST` (`unix://`, or `tcp://` with TLS
//! from `DOCKER_CERT_PATH` when `DOCKER_TLS_VERIFY` is set), else the default Unix socket. The
//! API version is negotiated down to what the engine supports (API 1.41 for engine 20.10).
//!
//! For Unix sockets the client keeps idle connections for reuse. bollard 0.21 disables hyper's
//! idle pool for its own Unix transport, which costs a new socket connection per request. The
//! pooled transport here sends the same requests over kept-alive connections, and BENCHMARKS.md
//! compares the two.

use std::collections::HashMap;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, RemoveContainerOptions,
};
use bollard::{BollardRequest, Docker};
use futures_util::StreamExt;

/// Label that marks every container specrun creates, with the run id as value.
pub const RUN_LABEL: &str = "specrun.run";

/// Default engine address, as the docker CLI uses it.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Seconds that bollard waits for one API response. Exec output is streamed, so a long batch
/// does not hit this limit; the batch deadline bounds it instead.
const REQUEST_TIMEOUT_SECONDS: u64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot connect to the Docker engine at {host}: {source}; start the engine or set DOCKER_HOST")]
    Connect {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("image {image} not found in the engine; build or pull it first (specrun does not pull images)")]
    ImageNotFound { image: String },
    #[error("container {container} not found; check the name with `docker ps`")]
    ContainerNotFound { container: String },
    #[error("container {container} is not running ({status}); start it before testing it")]
    ContainerNotRunning { container: String, status: String },
    #[error(
        "container from image {image} stopped right after it started (exit code {exit_code}); \
             its command must keep running, for example with `docker run -i` semantics or a long-running CMD"
    )]
    ContainerExited { image: String, exit_code: i64 },
    #[error("{operation} failed for {subject}: {source}")]
    Api {
        operation: &'static str,
        subject: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl EngineError {
    fn api(operation: &'static str, subject: impl Into<String>, source: bollard::errors::Error) -> Self {
        EngineError::Api { operation, subject: subject.into(), source }
    }
}

/// An exec call's process: what runs, as whom, where and with which extra variables.
#[derive(Clone, Debug, Default)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub user: Option<String>,
    /// `NAME=value` entries added to the container's environment.
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

/// Result of one exec call whose stdout went to a callback.
#[derive(Debug)]
pub struct ExecResult {
    pub exit_code: Option<i64>,
    pub stderr: Vec<u8>,
}

/// Connection mode for a Unix socket engine. `Pooled` reuses connections between requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Pooled,
    Unpooled,
}

/// A connected engine client. Cloning shares the connection pool.
#[derive(Clone, Debug)]
pub struct Engine {
    docker: Docker,
    host: String,
}

impl Engine {
    /// Connects as the docker CLI does, negotiates the API version and pings the engine.
    pub async fn connect(transport: Transport) -> Result<Engine, EngineError> {
        let host = std::env::var("DOCKER_HOST").ok().filter(|host| !host.is_empty());
        let host = host.unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let connect_error = |source| EngineError::Connect { host: host.clone(), source };

        let docker = match host.strip_prefix("unix://") {
            Some(path) if transport == Transport::Pooled => pooled_unix(path).map_err(connect_error)?,
            _ => Docker::connect_with_host(&host)
                .map_err(connect_error)?
                .with_timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS)),
        };
        let docker = docker.negotiate_version().await.map_err(connect_error)?;
        docker.ping().await.map_err(connect_error)?;
        Ok(Engine { docker, host })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Returns the underlying client, for operations this type does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Creates and starts a container from `image` that stays up: stdin is kept open as
    /// `docker run -i` does, so an image whose command is a shell keeps running.
    pub async fn start_container(
        &self,
        image: &str,
        name: &str,
        run_id: &str,
        network: &str,
    ) -> Result<String, EngineError> {
        let id = self.create_container(image, name, run_id, network).await?;
        self.start_created(&id).await?;
        Ok(id)
    }

    /// Starts a container that [`Engine::create_container`] created.
    pub async fn start_created(&self, container: &str) -> Result<(), EngineError> {
        self.docker
            .start_container(container, None)
            .await
            .map_err(|source| EngineError::api("starting a container", container, source))
    }

    /// Fails unless the container exists and is running.
    pub async fn check_running(&self, container: &str) -> Result<(), EngineError> {
        let state = self.state(container).await?;
        if state.running {
            Ok(())
        } else {
            Err(EngineError::ContainerNotRunning { container: container.to_owned(), status: state.describe() })
        }
    }

    /// Current state of a container.
    pub async fn state(&self, container: &str) -> Result<ContainerState, EngineError> {
        let inspected =
            self.docker.inspect_container(container, None::<InspectContainerOptions>).await.map_err(|source| {
                match source {
                    bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => {
                        EngineError::ContainerNotFound { container: container.to_owned() }
                    }
                    source => EngineError::api("inspecting a container", container, source),
                }
            })?;
        let state = inspected.state.unwrap_or_default();
        Ok(ContainerState {
            running: state.running.unwrap_or(false),
            status: state.status.map(|status| status.to_string()).unwrap_or_else(|| "unknown".to_owned()),
            exit_code: state.exit_code.unwrap_or(0),
        })
    }

    /// Runs `cmd` in the container, streaming stdout to `on_stdout` and collecting stderr.
    /// Returns early with an error when `on_stdout` fails.
    pub async fn exec<E>(
        &self,
        container: &str,
        cmd: Vec<String>,
        user: Option<&str>,
        on_stdout: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<Result<ExecResult, E>, EngineError> {
        let request = ExecRequest { cmd, user: user.map(str::to_owned), ..ExecRequest::default() };
        self.exec_request(container, request, on_stdout).await
    }

    /// Runs an [`ExecRequest`] as [`Engine::exec`] does.
    pub async fn exec_request<E>(
        &self,
        container: &str,
        request: ExecRequest,
        mut on_stdout: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<Result<ExecResult, E>, EngineError> {
        let options = CreateExecOptions {
            cmd: Some(request.cmd),
            user: request.user,
            env: (!request.env.is_empty()).then_some(request.env),
            working_dir: request.workdir,
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            attach_stdin: Some(false),
            tty: Some(false),
            ..CreateExecOptions::default()
        };
        let exec_error = |source| EngineError::api("exec", container, source);
        let created = self.docker.create_exec(container, options).await.map_err(exec_error)?;
        let started = self
            .docker
            .start_exec(&created.id, Some(StartExecOptions { detach: false, ..StartExecOptions::default() }))
            .await
            .map_err(exec_error)?;

        let mut stderr = Vec::new();
        if let StartExecResults::Attached { mut output, .. } = started {
            while let Some(chunk) = output.next().await {
                match chunk.map_err(exec_error)? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        if let Err(error) = on_stdout(&message) {
                            return Ok(Err(error));
                        }
                    }
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    LogOutput::StdIn { .. } => {}
                }
            }
        }
        let inspected = self.docker.inspect_exec(&created.id).await.map_err(exec_error)?;
        Ok(Ok(ExecResult { exit_code: inspected.exit_code, stderr }))
    }

    /// Removes a container and its anonymous volumes, stopping it first.
    pub async fn remove_container(&self, container: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptions { force: true, v: true, ..RemoveContainerOptions::default() };
        self.docker
            .remove_container(container, Some(options))
            .await
            .map_err(|source| EngineError::api("removing a container", container, source))
    }

    /// Ids of all containers, running or not, that carry the label of `run_id`.
    pub async fn run_containers(&self, run_id: &str) -> Result<Vec<String>, EngineError> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{RUN_LABEL}={run_id}")])]);
        let options = ListContainersOptions { all: true, filters: Some(filters), ..ListContainersOptions::default() };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|source| EngineError::api("listing containers", run_id, source))?;
        Ok(containers.into_iter().filter_map(|container| container.id).collect())
    }
}

/// Path stat from the archive API, with the mode converted to the Unix `st_mode` layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStat {
    pub mode: u32,
    pub size: u64,
    pub link_target: Option<String>,
}

impl Engine {
    /// Stats a path through the archive API (`HEAD /containers/{id}/archive`), which works without
    /// a shell and on a container that never started. Returns `None` when the path does not exist.
    pub async fn path_stat(&self, container: &str, path: &str) -> Result<Option<PathStat>, EngineError> {
        let options = bollard::query_parameters::ContainerArchiveInfoOptions { path: path.to_owned() };
        match self.docker.get_container_archive_info(container, Some(options)).await {
            Ok(stat) => Ok(Some(PathStat {
                mode: go_mode_to_unix(stat.file_mode),
                size: u64::try_from(stat.size).unwrap_or(0),
                link_target: Some(stat.link_target).filter(|target| !target.is_empty()),
            })),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(source) => Err(EngineError::api("stat through the archive API", format!("{container}:{path}"), source)),
        }
    }

    /// Reads the tar archive of a path (`GET /containers/{id}/archive`) and stops after `limit`
    /// bytes, so a directory tree or a large file is never copied whole. Returns `None` when the
    /// path does not exist.
    pub async fn read_archive(
        &self,
        container: &str,
        path: &str,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let options = bollard::query_parameters::DownloadFromContainerOptions { path: path.to_owned() };
        let mut stream = self.docker.download_from_container(container, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.extend_from_slice(&bytes),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
                Err(source) => {
                    return Err(EngineError::api(
                        "reading through the archive API",
                        format!("{container}:{path}"),
                        source,
                    ));
                }
            }
            if archive.len() >= limit {
                break;
            }
        }
        Ok(Some(archive))
    }

    /// Creates a container from `image` without starting it. Its stdin is kept open, so once
    /// started, an image whose command is a shell keeps running.
    pub async fn create_container(
        &self,
        image: &str,
        name: &str,
        run_id: &str,
        network: &str,
    ) -> Result<String, EngineError> {
        let labels = HashMap::from([(RUN_LABEL.to_owned(), run_id.to_owned())]);
        let config = ContainerCreateBody {
            image: Some(image.to_owned()),
            labels: Some(labels),
            open_stdin: Some(true),
            attach_stdin: Some(false),
            tty: Some(false),
            host_config: Some(HostConfig { network_mode: Some(network.to_owned()), ..HostConfig::default() }),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions { name: Some(name.to_owned()), ..CreateContainerOptions::default() };
        let created = self.docker.create_container(Some(options), config).await.map_err(|source| match source {
            bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => {
                EngineError::ImageNotFound { image: image.to_owned() }
            }
            source => EngineError::api("creating a container", image, source),
        })?;
        Ok(created.id)
    }

    /// Reads what an image declares, for metadata checks. `image` may be a reference or an id.
    pub async fn image_metadata(&self, image: &str) -> Result<crate::check::metadata::ImageMetadata, EngineError> {
        let inspected = self.docker.inspect_image(image).await.map_err(|source| match source {
            bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => {
                EngineError::ImageNotFound { image: image.to_owned() }
            }
            source => EngineError::api("inspecting an image", image, source),
        })?;
        let config = inspected.config.unwrap_or_default();
        let nanos =
            |value: Option<i64>| value.filter(|nanos| *nanos > 0).map(|nanos| Duration::from_nanos(nanos as u64));
        let healthcheck = config
            .healthcheck
            .filter(|health| health.test.as_ref().is_some_and(|test| !test.is_empty() && test[0] != "NONE"));
        Ok(crate::check::metadata::ImageMetadata {
            env: config.env.unwrap_or_default(),
            entrypoint: config.entrypoint,
            cmd: config.cmd,
            user: config.user.unwrap_or_default(),
            workdir: config.working_dir.unwrap_or_default(),
            exposed_ports: config.exposed_ports.unwrap_or_default(),
            volumes: config.volumes.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            healthcheck: healthcheck.map(|health| crate::check::metadata::Healthcheck {
                test: health.test.unwrap_or_default(),
                interval: nanos(health.interval),
                timeout: nanos(health.timeout),
                retries: health.retries,
                start_period: nanos(health.start_period),
            }),
            architecture: inspected.architecture.unwrap_or_default(),
            os: inspected.os.unwrap_or_default(),
        })
    }

    /// Image id of a container, for metadata checks on running containers.
    pub async fn container_image(&self, container: &str) -> Result<String, EngineError> {
        let inspected = self
            .docker
            .inspect_container(container, None::<InspectContainerOptions>)
            .await
            .map_err(|source| EngineError::api("inspecting a container", container, source))?;
        Ok(inspected.image.unwrap_or_default())
    }
}

/// Converts a Go `os.FileMode`, which the archive API reports, to a Unix `st_mode`. Go keeps the
/// type and the setuid, setgid and sticky flags in high bits of its own; Unix keeps them in
/// `S_IFMT` and in 0o7000.
pub fn go_mode_to_unix(go_mode: u32) -> u32 {
    const GO_DIR: u32 = 1 << 31;
    const GO_SYMLINK: u32 = 1 << 27;
    const GO_DEVICE: u32 = 1 << 26;
    const GO_NAMED_PIPE: u32 = 1 << 25;
    const GO_SOCKET: u32 = 1 << 24;
    const GO_SETUID: u32 = 1 << 23;
    const GO_SETGID: u32 = 1 << 22;
    const GO_CHAR_DEVICE: u32 = 1 << 21;
    const GO_STICKY: u32 = 1 << 20;

    let file_type = if go_mode & GO_DIR != 0 {
        0o040000
    } else if go_mode & GO_SYMLINK != 0 {
        0o120000
    } else if go_mode & GO_NAMED_PIPE != 0 {
        0o010000
    } else if go_mode & GO_SOCKET != 0 {
        0o140000
    } else if go_mode & GO_DEVICE != 0 && go_mode & GO_CHAR_DEVICE != 0 {
        0o020000
    } else if go_mode & GO_DEVICE != 0 {
        0o060000
    } else {
        0o100000
    };
    let mut mode = file_type | (go_mode & 0o777);
    if go_mode & GO_SETUID != 0 {
        mode |= 0o4000;
    }
    if go_mode & GO_SETGID != 0 {
        mode |= 0o2000;
    }
    if go_mode & GO_STICKY != 0 {
        mode |= 0o1000;
    }
    mode
}

#[cfg(test)]
mod tests {
    use super::go_mode_to_unix;

    #[test]
    fn go_modes_convert_to_unix() {
        assert_eq!(go_mode_to_unix(0o644), 0o100644);
        assert_eq!(go_mode_to_unix((1 << 31) | 0o755), 0o040755);
        assert_eq!(go_mode_to_unix((1 << 31) | (1 << 20) | 0o777), 0o041777);
        assert_eq!(go_mode_to_unix((1 << 23) | 0o755), 0o104755);
        assert_eq!(go_mode_to_unix((1 << 22) | 0o755), 0o102755);
        assert_eq!(go_mode_to_unix((1 << 27) | 0o777), 0o120777);
        assert_eq!(go_mode_to_unix((1 << 25) | 0o644), 0o010644);
        assert_eq!(go_mode_to_unix((1 << 26) | (1 << 21) | 0o666), 0o020666);
        assert_eq!(go_mode_to_unix((1 << 26) | 0o660), 0o060660);
        assert_eq!(go_mode_to_unix((1 << 24) | 0o755), 0o140755);
    }
}

/// The parts of a container's state that specrun reports.
#[derive(Clone, Debug)]
pub struct ContainerState {
    pub running: bool,
    pub status: String,
    pub exit_code: i64,
}

impl ContainerState {
    pub fn describe(&self) -> String {
        if self.status == "exited" { format!("exited with code {}", self.exit_code) } else { self.status.clone() }
    }
}

/// Builds a Unix socket client whose connections are kept alive and reused between requests.
fn pooled_unix(path: &str) -> Result<Docker, bollard::errors::Error> {
    if !std::path::Path::new(path).exists() {
        return Err(bollard::errors::Error::SocketNotFoundError(path.to_owned()));
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(hyperlocal::UnixConnector);
    let socket = path.to_owned();
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        let socket = socket.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            let path_and_query = parts.uri.path_and_query().map_or("/", |path| path.as_str());
            parts.uri = hyperlocal::Uri::new(&socket, path_and_query).into();
            let request = BollardRequest::from_parts(parts, body);
            client.request(request).await.map_err(bollard::errors::Error::from)
        }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some("http://localhost"),
        REQUEST_TIMEOUT_SECONDS,
        bollard::API_DEFAULT_VERSION,
    )
}
