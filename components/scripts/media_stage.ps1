<#
  Run Command "StageMedia" on every cluster node: copies the BizTalk or HIS install media from the blob the user
  uploaded once (README "The install media") to StagingDirectory, where sso.installer points.
  No key and no SAS: the node asks the Instance Metadata Service for a token of its system-assigned managed
  identity (learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token, "Get a token
  using PowerShell") and reads the blob with it, which needs x-ms-version 2017-11-09 or later
  (learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory). The identity holds Storage
  Blob Data Reader on the container; a role assignment can take minutes to apply, so "403" is retried until
  TimeoutSeconds, and so is an identity that is not ready yet.
  The download lands in <StagingDirectory>.partial, is checked against Sha256 (Get-FileHash) and only then
  unpacked: an .iso is mounted and copied, a .zip expanded, an .exe or .msi copied as it is. A marker file
  (.entsso-media.json: the blob and its SHA-256) is written last, so an interrupted run leaves no marker and the
  next run starts over; a run whose marker matches and whose installer is there does nothing and says so.
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$AccountName,
    [Parameter(Mandatory = $true)][string]$ContainerName,
    [Parameter(Mandatory = $true)][string]$BlobNameBase64,
    [Parameter(Mandatory = $true)][string]$Sha256,
    [Parameter(Mandatory = $true)][string]$StagingDirectoryBase64,
    [Parameter(Mandatory = $true)][string]$InstallerPathBase64,
    [string]$EndpointSuffix = 'core.windows.net',
    [int]$TimeoutSeconds = 3600
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'  # Invoke-RestMethod's progress bar slows a large download in 5.1

$blobName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($BlobNameBase64))
$staging = ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($StagingDirectoryBase64))).TrimEnd('\')
$installer = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InstallerPathBase64))
if ($AccountName -notmatch '^[a-z0-9]{3,24}$') { throw ('{0} is not a storage account name' -f $AccountName) }
if ($ContainerName -notmatch '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$') { throw ('{0} is not a container name' -f $ContainerName) }
if ($Sha256 -notmatch '^[0-9A-Fa-f]{64}$') { throw 'Sha256 is not 64 hexadecimal characters' }
$expected = $Sha256.ToUpperInvariant()
$leaf = ($blobName -split '/')[-1]
$kind = [IO.Path]::GetExtension($leaf).ToLowerInvariant()
if (@('.iso', '.zip', '.exe', '.msi') -notcontains $kind) { throw ('{0} is not an .iso, .zip, .exe or .msi' -f $blobName) }
$marker = Join-Path $staging '.entsso-media.json'

function Write-Result([bool]$Changed, [string]$Message) {
    $result = [ordered]@{
        ok        = $true
        changed   = $Changed
        blob      = ('{0}/{1}/{2}' -f $AccountName, $ContainerName, $blobName)
        sha256    = $expected
        staging   = $staging
        installer = $installer
        message   = $Message
    }
    Write-Output (ConvertTo-Json -InputObject $result -Compress)
}

# learn.microsoft.com/powershell/module/microsoft.powershell.management/test-path, get-content;
# learn.microsoft.com/powershell/module/microsoft.powershell.utility/convertfrom-json
if ((Test-Path -LiteralPath $marker -PathType Leaf) -and (Test-Path -LiteralPath $installer -PathType Leaf)) {
    $staged = Get-Content -LiteralPath $marker -Raw | ConvertFrom-Json
    if ([string]$staged.sha256 -eq $expected -and [string]$staged.blob -eq $blobName) {
        Write-Result -Changed $false -Message ('{0} is already staged in {1} (SHA-256 {2}); nothing to do' -f $blobName, $staging, $expected)
        return
    }
}

$deadline = (Get-Date).AddSeconds($TimeoutSeconds)
function Wait-OrThrow([string]$What) {
    if ((Get-Date) -ge $deadline) { throw ('{0} (gave up after {1} s)' -f $What, $TimeoutSeconds) }
    Start-Sleep -Seconds 15
}

# The managed identity's token for Azure Storage.
$tokenUri = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com%2F'
$token = $null
while ($null -eq $token) {
    try {
        # learn.microsoft.com/powershell/module/microsoft.powershell.utility/invoke-restmethod
        $token = [string](Invoke-RestMethod -Uri $tokenUri -Headers @{ Metadata = 'true' } -Method Get -UseBasicParsing).access_token
    } catch {
        Wait-OrThrow ('the Instance Metadata Service gave no managed identity token for Azure Storage: {0}' -f $_.Exception.Message)
    }
}

# learn.microsoft.com/powershell/module/microsoft.powershell.management/remove-item, new-item
$partial = '{0}.partial' -f $staging
if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
New-Item -ItemType Directory -Path $partial -Force | Out-Null
$download = Join-Path $partial $leaf
$path = ($blobName -split '/' | ForEach-Object { [Uri]::EscapeDataString($_) }) -join '/'
$uri = 'https://{0}.blob.{1}/{2}/{3}' -f $AccountName, $EndpointSuffix, $ContainerName, $path
$headers = @{ Authorization = ('Bearer {0}' -f $token); 'x-ms-version' = '2020-10-02' }
$fetched = $false
while (-not $fetched) {
    try {
        Invoke-RestMethod -Uri $uri -Headers $headers -Method Get -OutFile $download -UseBasicParsing
        $fetched = $true
    } catch [System.Net.WebException] {
        $status = 0
        if ($null -ne $_.Exception.Response) { $status = [int]$_.Exception.Response.StatusCode }
        if ($status -eq 404) {
            throw ('blob {0} is not in container {1} of storage account {2}: upload the media there first (README "The install media")' -f
                $blobName, $ContainerName, $AccountName)
        }
        # 403 until the role assignment applies; 5xx and connection errors are transient too.
        Wait-OrThrow ('could not read {0} (HTTP {1}): {2}; the node''s identity needs Storage Blob Data Reader on the container' -f
            $uri, $status, $_.Exception.Message)
    }
}

# learn.microsoft.com/powershell/module/microsoft.powershell.utility/get-filehash
$actual = (Get-FileHash -LiteralPath $download -Algorithm SHA256).Hash.ToUpperInvariant()
if ($actual -ne $expected) {
    Remove-Item -LiteralPath $partial -Recurse -Force
    throw ('{0} has SHA-256 {1}, not the {2} in sso.media.sha256: the blob is not the media this stack expects' -f
        $blobName, $actual, $expected)
}

if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
New-Item -ItemType Directory -Path $staging -Force | Out-Null
if ($kind -eq '.zip') {
    # learn.microsoft.com/powershell/module/microsoft.powershell.archive/expand-archive
    Expand-Archive -LiteralPath $download -DestinationPath $staging -Force
} elseif ($kind -eq '.iso') {
    # learn.microsoft.com/powershell/module/storage/mount-diskimage, get-volume, dismount-diskimage
    $image = Mount-DiskImage -ImagePath $download -PassThru
    try {
        $letter = [string]($image | Get-Volume).DriveLetter
        if ($letter -eq '') { throw ('{0} mounted without a drive letter' -f $leaf) }
        # learn.microsoft.com/powershell/module/microsoft.powershell.management/copy-item
        Copy-Item -Path ('{0}:\*' -f $letter) -Destination $staging -Recurse -Force
    } finally {
        Dismount-DiskImage -ImagePath $download | Out-Null
    }
} else {
    Copy-Item -LiteralPath $download -Destination (Join-Path $staging $leaf) -Force
}
if (-not (Test-Path -LiteralPath $installer -PathType Leaf)) {
    # learn.microsoft.com/powershell/module/microsoft.powershell.management/get-childitem
    $top = @(Get-ChildItem -LiteralPath $staging | Select-Object -First 12 | ForEach-Object { $_.Name }) -join ', '
    throw ('{0} is staged in {1}, but sso.installer {2} is not in it (it holds: {3})' -f $blobName, $staging, $installer, $top)
}

$stagedRecord = [ordered]@{ blob = $blobName; sha256 = $expected; account = $AccountName; container = $ContainerName; stagedAt = (Get-Date).ToString('o') }
# learn.microsoft.com/powershell/module/microsoft.powershell.management/set-content
Set-Content -LiteralPath $marker -Value (ConvertTo-Json -InputObject $stagedRecord -Compress) -Encoding UTF8
Remove-Item -LiteralPath $partial -Recurse -Force
Write-Result -Changed $true -Message ('staged {0} in {1}; SHA-256 {2} verified' -f $blobName, $staging, $expected)
